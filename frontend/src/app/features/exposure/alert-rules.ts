import { Component, OnInit, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { AlertCondition, AlertRule, Api, Brand } from '../../core/api';

/** Alert rules on brands: a dashboard notification and, with a URL, a signed webhook. */
@Component({
  selector: 'app-alert-rules',
  imports: [FormsModule],
  templateUrl: './alert-rules.html',
  styleUrl: './alert-rules.css',
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
