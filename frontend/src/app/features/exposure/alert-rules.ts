import { Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { AlertCondition, AlertRule, Api, Brand } from '../../core/api';

/** Alert rules on brands: a dashboard notification and, with a URL, a signed webhook. */
@Component({
  selector: 'app-alert-rules',
  imports: [FormsModule],
  template: `
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      @if (rules().length) {
        <ul class="rules">
          @for (r of rules(); track r.id) {
            <li>
              <strong>{{ r.name }}</strong>: {{ r.brand_name }}
              {{ r.condition === 'appears' ? 'appears' : 'on screen over ' + r.seconds + ' s' }}
              {{ r.stream ? '(this stream)' : '(every stream)' }} · fired {{ r.fired }}×
              @if (r.webhook_url) { · webhook }
              <button type="button" (click)="remove(r)" [attr.aria-label]="'Delete alert ' + r.name">Delete</button>
            </li>
          }
        </ul>
      }
      <form (ngSubmit)="create()" class="new">
        <label>Name <input name="name" required [(ngModel)]="name" /></label>
        <label>Brand
          <select name="brand" required [(ngModel)]="brandId">
            @for (b of brands(); track b.id) { <option [ngValue]="b.id">{{ b.name }}</option> }
          </select>
        </label>
        <label>When
          <select name="condition" [(ngModel)]="condition">
            <option value="appears">it appears</option>
            <option value="on_screen_for">it stays on screen over</option>
          </select>
        </label>
        @if (condition === 'on_screen_for') {
          <label>Seconds <input name="seconds" type="number" min="1" [(ngModel)]="seconds" /></label>
        }
        <label>Webhook URL <input name="webhook" type="url" placeholder="https://…" [(ngModel)]="webhookUrl" /></label>
        <button type="submit" [disabled]="!name || brandId === null">Add alert</button>
      </form>
      @if (secret(); as s) {
        <p role="status">Webhook signing secret, shown once: <code>{{ s }}</code>. Each POST carries
          <code>X-Media-Analyzer-Signature: sha256=HMAC(secret, timestamp + "." + body)</code>.</p>
      }
      @if (error(); as e) { <p role="alert" class="error">{{ e }}</p> }
    </section>
  `,
  styles: `
    section { background: var(--panel); border-radius: 8px; padding: 0.75rem; margin-bottom: 0.75rem; }
    h2 { font-size: 1rem; margin: 0 0 0.5rem; }
    .rules { padding-left: 1rem; }
    .rules button { margin-left: 0.5rem; }
    .new { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; }
    .error { color: var(--danger); }
    code { word-break: break-all; }
  `,
})
export class AlertRules implements OnInit {
  readonly streamId = input.required<string>();
  private readonly api = inject(Api);
  protected readonly rules = signal<AlertRule[]>([]);
  protected readonly brands = signal<Brand[]>([]);
  protected readonly secret = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  protected name = '';
  protected brandId: number | null = null;
  protected condition: AlertCondition = 'appears';
  protected seconds = 10;
  protected webhookUrl = '';

  async ngOnInit(): Promise<void> {
    const [rules, brands] = await Promise.all([this.api.alertRules(), this.api.brands()]);
    this.rules.set(rules);
    this.brands.set(brands);
    this.brandId = brands[0]?.id ?? null;
  }

  protected async create(): Promise<void> {
    if (this.brandId === null) return;
    try {
      const rule = await this.api.createAlertRule({
        name: this.name,
        brand: this.brandId,
        stream: this.streamId(),
        condition: this.condition,
        seconds: this.condition === 'on_screen_for' ? this.seconds : 0,
        webhook_url: this.webhookUrl,
      });
      this.secret.set(rule.webhook_url ? (rule.secret ?? null) : null);
      this.rules.update((rules) => [...rules, rule]);
      this.name = '';
      this.error.set(null);
    } catch {
      this.error.set('The alert was not saved: check its fields.');
    }
  }

  protected async remove(rule: AlertRule): Promise<void> {
    await this.api.deleteAlertRule(rule.id);
    this.rules.update((rules) => rules.filter((r) => r.id !== rule.id));
  }
}
