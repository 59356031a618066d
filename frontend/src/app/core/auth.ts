import { HttpClient } from '@angular/common/http';
import { Injectable, inject, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';

export interface User {
  id: number;
  username: string;
  is_staff: boolean;
}

@Injectable({ providedIn: 'root' })
export class Auth {
  private readonly http = inject(HttpClient);
  readonly user = signal<User | null | undefined>(undefined); // undefined: not asked yet

  async load(): Promise<User | null> {
    const me = await firstValueFrom(this.http.get<{ user: User | null }>('/api/auth/me/'));
    this.user.set(me.user);
    return me.user;
  }

  async login(username: string, password: string): Promise<void> {
    this.user.set(await firstValueFrom(this.http.post<User>('/api/auth/login/', { username, password })));
  }

  async logout(): Promise<void> {
    await firstValueFrom(this.http.post('/api/auth/logout/', {}));
    this.user.set(null);
  }
}

export const signedIn: CanActivateFn = async () => {
  const auth = inject(Auth);
  const router = inject(Router); // before any await: inject() needs the injection context
  const user = auth.user() === undefined ? await auth.load() : auth.user();
  return user ? true : router.parseUrl('/login');
};
