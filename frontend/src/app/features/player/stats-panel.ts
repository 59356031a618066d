import { Component, computed, effect, input, signal } from '@angular/core';
import type { AnalysisSegment, PipelineStats } from '../../core/protocol';

const HISTORY = 60;
const STAGE_COLOURS = ['#8c8c8c', '#c77dff', '#4ea8de', '#f4a261', '#e76f51', '#2a9d8f', '#e9c46a', '#90be6d'];

/** Pipeline health: lag, latency, queue depth, throughput, with a lag sparkline. */
@Component({
  selector: 'app-stats-panel',
  template: `
    <section aria-labelledby="stats-title">
      <h2 id="stats-title">Pipeline</h2>
      @if (stats(); as s) {
        <dl>
          <dt>Behind live</dt><dd>{{ live() ? seconds(s.lag_s) : 'not live (replay)' }}</dd>
          <dt>Latency p50 / p95</dt><dd>{{ seconds(s.latency_p50_s) }} / {{ seconds(s.latency_p95_s) }}</dd>
          <dt>Queue</dt><dd>{{ s.queue_depth['realtime'] }} realtime · {{ s.queue_depth['batch'] }} batch</dd>
          <dt>Frames/s</dt><dd>{{ s.frames_per_s }}</dd>
          @if (s.drawn_on_frame !== null) {
            <dt>Drawn on their frame</dt><dd data-testid="drawn-on-frame">{{ percent(s.drawn_on_frame) }}</dd>
          }
          @if (s.dropped) { <dt>Dropped here</dt><dd>{{ s.dropped }}</dd> }
          @if (gapsRefetched()) { <dt>Missed, refetched</dt><dd>{{ gapsRefetched() }}</dd> }
          @if (stepsDown(); as steps) {
            <dt>Last {{ segments().length }} segments</dt>
            <dd>{{ steps.degraded }} degraded · {{ steps.skipped }} skipped</dd>
            @if (steps.latest; as latest) { <dd class="note" role="status">{{ latest }}</dd> }
          }
        </dl>
        @if (stages().length) {
          <h3>Where a segment's time goes (p50)</h3>
          <div class="stages" role="img" [attr.aria-label]="stagesLabel()">
            @for (stage of sequential(); track stage.name) {
              <span [style.flex-grow]="stage.p50" [style.background]="stage.colour" [title]="stage.name"></span>
            }
          </div>
          <ul class="legend">
            @for (stage of stages(); track stage.name) {
              <li><span class="swatch" [style.background]="stage.colour"></span>{{ stage.name }}
                {{ milliseconds(stage.p50) }} / {{ milliseconds(stage.p95) }}</li>
            }
          </ul>
        }
        <svg viewBox="0 0 60 20" preserveAspectRatio="none" role="img" aria-label="Lag over the last minute">
          <polyline [attr.points]="sparkline()" fill="none" stroke="currentColor" stroke-width="0.8" />
        </svg>
      } @else {
        <p class="hint">Stats appear while the stream is live.</p>
      }
    </section>
  `,
  styles: `
    section { background: var(--panel); border-radius: 8px; padding: 0.75rem; margin-bottom: 0.75rem; }
    h2 { font-size: 1rem; margin: 0 0 0.5rem; }
    dl { display: grid; grid-template-columns: auto 1fr; gap: 0.2rem 0.75rem; margin: 0; }
    dt { color: var(--muted); } dd { margin: 0; text-align: right; }
    dd.note { grid-column: 1 / -1; text-align: left; color: var(--warn, #f0b400); font-size: 0.8rem; }
    svg { width: 100%; height: 2.5rem; color: var(--accent); margin-top: 0.5rem; }
    .hint { color: var(--muted); font-size: 0.85rem; }
    h3 { font-size: 0.85rem; margin: 0.6rem 0 0.3rem; color: var(--muted); font-weight: normal; }
    .stages { display: flex; height: 0.8rem; border-radius: 4px; overflow: hidden; background: var(--bg, #111); }
    .stages span { flex-basis: 0; min-width: 2px; }
    .legend { list-style: none; margin: 0.3rem 0 0; padding: 0; font-size: 0.8rem; columns: 2; }
    .swatch { display: inline-block; width: 0.6rem; height: 0.6rem; border-radius: 2px; margin-right: 0.3rem; }
  `,
})
export class StatsPanel {
  readonly stats = input<PipelineStats | null>(null);
  /** A finished stream has no live edge: its lag would only grow with the clock. */
  readonly live = input(true);
  /** Gaps in the socket's message numbers, filled from the REST API. */
  readonly gapsRefetched = input(0);
  /** Recent segments' outcomes, newest first. */
  readonly segments = input<AnalysisSegment[]>([]);
  /** How analysis gave way when it fell behind live, when it did. */
  protected readonly stepsDown = computed(() => {
    const segments = this.segments();
    const degraded = segments.filter((segment) => segment.degraded).length;
    const skipped = segments.filter((segment) => segment.state === 'skipped').length;
    const latest = segments[0];
    const note =
      latest && (latest.degraded || latest.state !== 'done')
        ? `segment ${latest.segment_seq}: ${latest.reason ?? latest.state}`
        : null;
    return degraded || skipped ? { degraded, skipped, latest: note } : null;
  });
  private readonly lags = signal<number[]>([]);
  /** The stages before `total`, each with its p50 and p95 seconds and a colour. */
  protected readonly stages = computed(() =>
    Object.entries(this.stats()?.stages ?? {})
      .filter(([name, seconds]) => name !== 'total' && seconds.p50 !== null)
      .map(([name, seconds], index) => ({
        name,
        p50: seconds.p50 ?? 0,
        p95: seconds.p95,
        colour: STAGE_COLOURS[index % STAGE_COLOURS.length],
      })),
  );
  /** The stages one after another: each analyzer's own time overlaps the others' (they run at once). */
  protected readonly sequential = computed(() => this.stages().filter((stage) => !stage.name.startsWith('analyze:')));
  protected readonly stagesLabel = computed(() =>
    this.sequential()
      .map((stage) => `${stage.name} ${this.milliseconds(stage.p50)}`)
      .join(', '),
  );
  protected readonly sparkline = computed(() => {
    const lags = this.lags();
    const top = Math.max(1, ...lags);
    return lags.map((lag, i) => `${i},${20 - (lag / top) * 19}`).join(' ');
  });

  constructor() {
    effect(() => {
      const lag = this.stats()?.lag_s;
      if (lag !== null && lag !== undefined && this.live()) this.lags.update((lags) => [...lags, lag].slice(-HISTORY));
    });
  }

  protected percent(share: number): string {
    return `${Math.round(share * 100)} %`;
  }

  protected milliseconds(value: number | null): string {
    return value === null ? '–' : `${Math.round(value * 1000)} ms`;
  }

  protected seconds(value: number | null): string {
    return value === null ? '–' : `${value.toFixed(1)} s`;
  }
}
