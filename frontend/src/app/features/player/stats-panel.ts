import { Component, computed, effect, input, signal } from '@angular/core';
import type { AnalysisSegment, PipelineStats } from '../../core/protocol';

const HISTORY = 60;
const STAGE_COLOURS = ['#8c8c8c', '#c77dff', '#4ea8de', '#f4a261', '#e76f51', '#2a9d8f', '#e9c46a', '#90be6d'];

/** Pipeline health: lag, latency, queue depth, throughput, with a lag sparkline. */
@Component({
  selector: 'app-stats-panel',
  templateUrl: './stats-panel.html',
  styleUrl: './stats-panel.css',
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
