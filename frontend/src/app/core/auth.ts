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
    try {
      this.user.set(await firstValueFrom(this.http.get<User>('/api/auth/me/')));
    } catch {
      this.user.set(null);
    }
    return this.user() ?? null;
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
  const user = auth.user() === undefined ? await auth.load() : auth.user();
  return user ? true : inject(Router).parseUrl('/login');
};
