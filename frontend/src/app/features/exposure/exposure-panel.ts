import { Component, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { AlertFired, BrandTotals } from '../../core/protocol';
import { percent, seconds } from './format';

/** Live brand exposure on the stream page: running totals and the alerts fired. */
@Component({
  selector: 'app-exposure-panel',
  imports: [RouterLink],
  templateUrl: './exposure-panel.html',
  styleUrl: './exposure-panel.css',
})
export class ExposurePanel {
  readonly streamId = input.required<string>();
  readonly brands = input.required<BrandTotals[]>();
  readonly alerts = input.required<AlertFired[]>();
  protected readonly seconds = seconds;
  protected readonly percent = percent;
}
