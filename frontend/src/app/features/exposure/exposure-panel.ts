import { Component, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { AlertFired, BrandTotals } from '../../core/protocol';
import { percent, seconds } from './format';

/** Live brand exposure on the stream page: running totals and the alerts fired. */
@Component({
  selector: 'app-exposure-panel',
  imports: [RouterLink],
  template: `
    <section aria-labelledby="exposure-title">
      <h2 id="exposure-title">Brands on screen</h2>
      @if (alerts().length) {
        <ul class="alerts" role="log" aria-live="polite" aria-label="Alerts">
          @for (a of alerts(); track a.appearance_id + '-' + a.rule_id) {
            <li><strong>{{ a.rule }}</strong>: {{ a.brand }} · {{ seconds(a.on_screen_s) }}</li>
          }
        </ul>
      }
      @if (brands().length) {
        <table>
          <thead><tr><th scope="col">Brand</th><th scope="col">Time</th><th scope="col">Seen</th><th scope="col">Share</th></tr></thead>
          <tbody>
            @for (b of brands(); track b.brand_id) {
              <tr>
                <td>{{ b.brand }}</td>
                <td>{{ seconds(b.screen_time_s) }}</td>
                <td>{{ b.appearances }}×</td>
                <td>{{ percent(b.share_of_screen_mean) }}</td>
              </tr>
            }
          </tbody>
        </table>
      } @else {
        <p class="hint">No brand seen yet. Add brands with logos or names on the Brands page.</p>
      }
      <a [routerLink]="['/streams', streamId(), 'exposure']">Exposure report →</a>
    </section>
  `,
  styles: `
    section { background: var(--panel); border-radius: 8px; padding: 0.75rem; margin-bottom: 0.75rem; }
    h2 { font-size: 1rem; margin: 0 0 0.5rem; }
    table { width: 100%; border-collapse: collapse; font-size: 0.9rem; margin-bottom: 0.5rem; }
    th { color: var(--muted); font-weight: normal; text-align: left; }
    td:not(:first-child), th:not(:first-child) { text-align: right; }
    .alerts { list-style: none; padding: 0; margin: 0 0 0.5rem; }
    .alerts li { border-left: 3px solid var(--warning); padding: 0.2rem 0.5rem; margin-bottom: 0.25rem; background: #1f2937; }
    .hint { color: var(--muted); font-size: 0.85rem; }
  `,
})
export class ExposurePanel {
  readonly streamId = input.required<string>();
  readonly brands = input.required<BrandTotals[]>();
  readonly alerts = input.required<AlertFired[]>();
  protected readonly seconds = seconds;
  protected readonly percent = percent;
}
