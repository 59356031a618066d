import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { Auth } from '../../core/auth';

@Component({
  selector: 'app-login-page',
  imports: [FormsModule],
  templateUrl: './login-page.html',
  styleUrl: './login-page.css',
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
