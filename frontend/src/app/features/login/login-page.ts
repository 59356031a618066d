import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { Auth } from '../../core/auth';

@Component({
  selector: 'app-login-page',
  imports: [FormsModule],
  template: `
    <form class="login" (ngSubmit)="signIn()">
      <h1>Sign in</h1>
      <label for="username">User name</label>
      <input id="username" name="username" [(ngModel)]="username" autocomplete="username" required />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" [(ngModel)]="password" autocomplete="current-password" required />
      @if (error(); as message) { <p class="error" role="alert">{{ message }}</p> }
      <button type="submit">Sign in</button>
    </form>
  `,
  styles: `
    .login { display: grid; gap: 0.5rem; max-width: 20rem; margin: 4rem auto; }
    .error { color: var(--danger); }
  `,
})
export class LoginPage {
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  protected readonly error = signal<string | null>(null);
  protected username = '';
  protected password = '';

  protected async signIn(): Promise<void> {
    try {
      await this.auth.login(this.username, this.password);
      await this.router.navigateByUrl('/streams');
    } catch {
      this.error.set('Wrong user name or password.');
    }
  }
}
