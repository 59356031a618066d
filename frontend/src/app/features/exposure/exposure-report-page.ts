import { DecimalPipe } from '@angular/common';
import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { Api, Appearance, Brand, ExposureSummary, TimeRange } from '../../core/api';
import { AlertRules } from './alert-rules';
import { fraction, percent, seconds } from './format';
import { errorMessage } from '../../core/api-error';
import { localInputValue, momentAt } from './moment';

/** A stream's brand exposure over a time range: screen-time bars, a timeline of
 * appearances, position heatmaps, evidence with links that play the moment, exports,
 * and corrections: "not this brand" on an appearance, "missed here" at a moment. */
@Component({
  selector: 'app-exposure-report-page',
  imports: [DecimalPipe, FormsModule, RouterLink, AlertRules],
  templateUrl: './exposure-report-page.html',
  styleUrl: './exposure-report-page.css',
})
export class ExposureReportPage implements OnInit {
  readonly id = input.required<string>(); // from the route
  private readonly api = inject(Api);
  protected readonly summary = signal<ExposureSummary | null>(null);
  protected readonly appearances = signal<Appearance[]>([]);
  protected readonly error = signal<string | null>(null);
  protected readonly brands = signal<Brand[]>([]);
  protected readonly notice = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected missedBrand: number | null = null;
  protected missedAtText = ''; // datetime-local; a click on the timeline fills it
  protected sinceText = '';
  protected untilText = '';
  private readonly range = signal<TimeRange>({});
  protected readonly seconds = seconds;
  protected readonly percent = percent;
  protected readonly longest = computed(() =>
    Math.max(1e-9, ...(this.summary()?.brands ?? []).map((b) => b.screen_time_s)),
  );
  protected readonly span = computed(() => {
    const s = this.summary();
    return s?.since && s?.until ? { since: new Date(s.since), until: new Date(s.until) } : null;
  });
  protected readonly lanes = computed(() => (this.summary()?.brands ?? []).map((b) => b.brand_id));

  async ngOnInit(): Promise<void> {
    await Promise.all([this.load(), this.loadBrands()]);
  }

  /** "Not this brand": the appearance's logo becomes a negative of the brand, and it leaves the report. */
  protected async reject(a: Appearance): Promise<void> {
    const question = `Not ${a.brand_name}? This appearance is removed, and regions like it are no longer taken for ${a.brand_name}.`;
    if (!confirm(question)) return;
    await this.correct(async () => {
      const result = await this.api.rejectAppearance(this.id(), a.id);
      this.notice.set(`Removed. ${result.negatives} example(s) of what is not ${a.brand_name} stored.`);
    });
  }

  /** Picks the moment under a click on the timeline, for "missed here". */
  protected pickMoment(event: MouseEvent, track: HTMLElement): void {
    const span = this.span();
    if (!span) return;
    const box = track.getBoundingClientRect();
    this.missedAtText = localInputValue(momentAt(event.clientX, box.left, box.width, span.since, span.until));
  }

  /** "Missed here": the chosen brand's logo is on screen at the chosen moment. */
  protected async markMissed(): Promise<void> {
    const brand = this.brands().find((b) => b.id === this.missedBrand);
    if (!brand || !this.missedAtText) return;
    await this.correct(async () => {
      await this.api.logoMissed(this.id(), { brand: brand.id, at: new Date(this.missedAtText).toISOString() });
      this.notice.set(
        `Stored. That moment is being checked again for ${brand.name}; the report updates in a few seconds.`,
      );
    });
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

  private async correct(action: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.notice.set(null);
    this.error.set(null);
    try {
      await action();
      await this.load();
    } catch (failure) {
      this.error.set(errorMessage(failure, 'The correction could not be made.'));
    } finally {
      this.busy.set(false);
    }
  }

  private async loadBrands(): Promise<void> {
    try {
      this.brands.set((await this.api.brands()).filter((b) => b.reference_images.length));
    } catch {
      this.brands.set([]); // the report stands without the corrections form
    }
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
