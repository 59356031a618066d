import { Component, inject } from '@angular/core';
import { Router, RouterLink, RouterOutlet } from '@angular/router';
import { Auth } from './core/auth';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink],
  template: `
    <header class="bar">
      <a routerLink="/streams" class="brand">Media Analyzer</a>
      @if (auth.user(); as user) {
        <nav><a routerLink="/streams">Streams</a> · <a routerLink="/brands">Brands</a> · <a routerLink="/uploads">Upload</a></nav>
        <span class="user">{{ user.username }}</span>
        <button type="button" (click)="signOut()">Sign out</button>
      }
    </header>
    <main><router-outlet /></main>
  `,
  styles: `
    .bar { display: flex; gap: 1rem; align-items: center; padding: 0.6rem 1.25rem; border-bottom: 1px solid var(--line); }
    .brand { font-weight: 700; color: var(--text); text-decoration: none; flex: 1; }
    .user { color: var(--muted); }
    main { padding: 1rem 1.25rem; max-width: 1400px; margin: 0 auto; }
  `,
})
export class App {
  protected readonly auth = inject(Auth);
  private readonly router = inject(Router);

  protected async signOut(): Promise<void> {
    await this.auth.logout();
    await this.router.navigateByUrl('/login');
  }
}
