import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { Api, Appearance, ExposureSummary, TimeRange } from '../../core/api';
import { AlertRules } from './alert-rules';
import { fraction, percent, seconds } from './format';

/** A stream's brand exposure over a time range: screen-time bars, a timeline of
 * appearances, position heatmaps, evidence with links that play the moment, exports. */
@Component({
  selector: 'app-exposure-report-page',
  imports: [FormsModule, RouterLink, AlertRules],
  templateUrl: './exposure-report-page.html',
  styleUrl: './exposure-report-page.css',
})
export class ExposureReportPage implements OnInit {
  readonly id = input.required<string>(); // from the route
  private readonly api = inject(Api);
  protected readonly summary = signal<ExposureSummary | null>(null);
  protected readonly appearances = signal<Appearance[]>([]);
  protected readonly error = signal<string | null>(null);
  protected sinceText = '';
  protected untilText = '';
  private readonly range = signal<TimeRange>({});
  protected readonly seconds = seconds;
  protected readonly percent = percent;
  protected readonly longest = computed(() => Math.max(1e-9, ...(this.summary()?.brands ?? []).map((b) => b.screen_time_s)));
  protected readonly span = computed(() => {
    const s = this.summary();
    return s?.since && s?.until ? { since: new Date(s.since), until: new Date(s.until) } : null;
  });
  protected readonly lanes = computed(() => (this.summary()?.brands ?? []).map((b) => b.brand_id));

  ngOnInit(): Promise<void> {
    return this.load();
  }

  protected async apply(): Promise<void> {
    const since = this.sinceText ? new Date(this.sinceText) : undefined;
    const until = this.untilText ? new Date(this.untilText) : undefined;
    this.range.set({ since, until });
    await this.load();
  }

  protected exportUrl(file: 'exposure.csv' | 'appearances.csv' | 'exposure/' | 'appearances/'): string {
    return this.api.exportUrl(this.id(), file, this.range());
  }

  protected position(at: string): number {
    const span = this.span();
    return span ? fraction(at, span.since, span.until) * 100 : 0;
  }

  protected width(a: Appearance): number {
    const span = this.span();
    if (!span) return 0;
    const end = new Date(new Date(a.start_pdt).getTime() + a.duration_s * 1000);
    return Math.max(0.4, fraction(end, span.since, span.until) * 100 - this.position(a.start_pdt));
  }

  protected lane(a: Appearance): number {
    return this.lanes().indexOf(a.brand);
  }

  protected playParams(a: Appearance): Record<string, string> {
    return { at: a.start_pdt };
  }

  protected sourcesOf(a: Appearance): string {
    return Object.keys(a.sources).join(', ');
  }

  private async load(): Promise<void> {
    try {
      const [summary, appearances] = await Promise.all([
        this.api.exposure(this.id(), this.range()),
        this.api.appearances(this.id(), this.range()),
      ]);
      this.summary.set(summary);
      this.appearances.set(appearances);
      this.error.set(null);
    } catch {
      this.error.set('Could not load the exposure of this range.');
    }
  }
}
