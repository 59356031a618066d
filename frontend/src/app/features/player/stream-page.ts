import { Component, OnInit, computed, inject, input, signal } from '@angular/core';
import { PercentPipe } from '@angular/common';
import { RouterLink } from '@angular/router';
import { AnalyzerStatus, Api, ProcessingMode, StreamInfo } from '../../core/api';
import { Kinds } from '../../core/kinds';
import type { Detection } from '../../core/protocol';
import { StreamSocket } from '../../core/stream-socket';
import { ExposurePanel } from '../exposure/exposure-panel';
import { StatsPanel } from './stats-panel';
import { StreamPlayer } from './stream-player';

/** Played this much further behind live than results arrive, so each box is in before its frame. */
const HOLD_BACK_MARGIN_S = 1;

@Component({
  selector: 'app-stream-page',
  imports: [PercentPipe, RouterLink, StreamPlayer, StatsPanel, ExposurePanel],
  providers: [StreamSocket],
  templateUrl: './stream-page.html',
  styleUrl: './stream-page.css',
})
export class StreamPage implements OnInit {
  readonly id = input.required<string>(); // from the route
  /** `?at=<ISO wall clock>`: start playback there (links from the exposure report). */
  readonly at = input<string | undefined>(undefined);
  private readonly api = inject(Api);
  protected readonly socket = inject(StreamSocket);
  protected readonly stream = signal<StreamInfo | null>(null);
  protected readonly analyzers = signal<AnalyzerStatus[]>([]);
  private readonly kindCatalogue = inject(Kinds);
  /** One toggle per kind with boxes, as the API names them; all shown until one is unticked. */
  protected readonly kinds = this.kindCatalogue.boxed;
  protected readonly colours = this.kindCatalogue.colours;
  private readonly hiddenKinds = signal<ReadonlySet<string>>(new Set());
  /** The API's kinds and any kind on screen (before the API answers, or one it did not name),
   * less those unticked: a box is never hidden for want of the catalogue. */
  protected readonly shownKinds = computed<ReadonlySet<string>>(() => {
    const hidden = this.hiddenKinds();
    const onScreen = (this.socket.latest()?.detections ?? []).map((detection) => detection.kind);
    const keys = new Set([...this.kinds().map((kind) => kind.key), ...onScreen]);
    return new Set([...keys].filter((key) => !hidden.has(key)));
  });
  /** A viewer who prefers low delay sees boxes only where results are in time. */
  protected readonly lowDelay = signal(false);
  protected readonly holdBackS = computed(() => {
    const delay = this.socket.resultsDelayP95S();
    return this.lowDelay() || delay === null ? null : delay + HOLD_BACK_MARGIN_S;
  });
  /** A result is drawn until the next is due: longer when a degraded segment was sampled slower. */
  protected readonly maxAgeMs = computed(() => {
    const fps = this.socket.segments()[0]?.degraded?.fps ?? this.stream()?.sampling_fps ?? 2;
    return Math.max(900, 1800 / fps);
  });
  protected readonly status = computed(() => this.socket.state()?.status ?? this.stream()?.status ?? 'offline');
  protected readonly detections = computed<Detection[]>(() =>
    (this.socket.latest()?.detections ?? []).filter((d) => d.kind !== 'visual'),
  );
  /** Brands CLIP ranks above "no logo" for the whole frame (no box: a hint, not a sighting). */
  protected readonly zeroShotBrands = computed(() => {
    const scene = this.socket.latest()?.detections.find((d) => d.kind === 'scene');
    const ranked = (scene?.extra['brands'] ?? []) as { label: string; score: number; above_no_logo: boolean }[];
    return ranked.filter((brand) => brand.above_no_logo);
  });
  protected readonly visual = computed(() => {
    const found = this.socket.latest()?.detections.find((d) => d.kind === 'visual');
    return found?.extra as
      { brightness: number; motion: number | null; colours: { hex: string; share: number }[] } | undefined;
  });

  async ngOnInit(): Promise<void> {
    const kinds = this.kindCatalogue.load();
    this.stream.set(await this.api.stream(this.id()));
    this.socket.connect(this.id());
    this.analyzers.set((await this.api.health()).analyzers);
    await kinds.catch(() => undefined); // no toggles then; boxes are still drawn (shownKinds)
  }

  protected colour(kind: string): string {
    return this.kindCatalogue.colour(kind);
  }

  protected startAt(): Date | null {
    const at = this.at();
    return at && !Number.isNaN(Date.parse(at)) ? new Date(at) : null;
  }

  protected hlsUrl(): string {
    return this.api.hlsUrl(this.id());
  }

  protected async loadResultsAround(at: Date): Promise<void> {
    const since = new Date(at.getTime() - 5_000);
    const until = new Date(at.getTime() + 60_000);
    for (const frame of await this.api.frames(this.id(), since, until)) this.socket.timeline.add(frame);
  }

  protected toggleKind(kind: string): void {
    const hidden = new Set(this.hiddenKinds());
    if (hidden.has(kind)) hidden.delete(kind);
    else hidden.add(kind);
    this.hiddenKinds.set(hidden);
  }

  /** `mode`: the select's value, one of its options. */
  protected async setMode(mode: string): Promise<void> {
    this.stream.set(await this.api.updateStream(this.id(), { processing_mode: mode as ProcessingMode }));
  }

  protected async setAnalysis(enabled: boolean): Promise<void> {
    this.stream.set(await this.api.updateStream(this.id(), { analysis_enabled: enabled }));
  }

  protected async setBackfill(enabled: boolean): Promise<void> {
    this.stream.set(await this.api.updateStream(this.id(), { backfill_skipped: enabled }));
  }

  protected async toggleAnalyzer(name: string, enabled: boolean): Promise<void> {
    const current = this.stream()?.enabled_analyzers ?? [];
    const next = enabled ? [...current, name] : current.filter((analyzer) => analyzer !== name);
    this.stream.set(await this.api.updateStream(this.id(), { enabled_analyzers: next }));
  }

  protected async setSampling(fps: number): Promise<void> {
    if (fps > 0 && fps <= 30) this.stream.set(await this.api.updateStream(this.id(), { sampling_fps: fps }));
  }
}
