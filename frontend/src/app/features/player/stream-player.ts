import { DecimalPipe } from '@angular/common';
import {
  AfterViewInit,
  Component,
  ElementRef,
  OnDestroy,
  effect,
  input,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import Hls, { type Fragment } from 'hls.js';
import type { AnalysisFrame, Detection } from '../../core/protocol';
import type { DrawTally } from '../../core/draw-tally';
import { FrameTimeline } from '../../core/frame-timeline';
import { interpolated } from './interpolation';
import { untilPublished } from './manifest-retry';
import { ContentRect, OverlayRenderer, containedRect } from './overlay-renderer';

const CLOCK_TOLERANCE_MS = 4; // well under a frame, even at 60 fps
/** Moving the playhead back is a visible jump: only for a second or more, at most this often. */
const HOLD_BACK_SEEK_MIN_S = 1;
const HOLD_BACK_SEEK_EVERY_MS = 10_000;
/** hls.js's own distance from the live edge, in segments: the hold-back never goes nearer. */
const LIVE_SYNC_SEGMENTS = 3;
/** Between two loads of the live URL while a new session's first segment is being written. */
const NEW_SESSION_RETRY_MS = 1000;

/** What the overlay drew for the frame on screen; end-to-end tests read it. */
export interface OverlayProbe {
  framePdtMs: number;
  resultPdt: string | null;
  drawn: Detection[];
  content: ContentRect;
}

declare global {
  interface Window {
    mediaAnalyzerOverlay?: OverlayProbe;
  }
}

/** hls.js video with a canvas overlay kept in step with the displayed frame: at each
 * frame (requestVideoFrameCallback) its wall clock is its fragment's PROGRAM-DATE-TIME
 * plus its offset, and the overlay draws the newest result at or before that instant. */
@Component({
  selector: 'app-stream-player',
  imports: [DecimalPipe],
  templateUrl: './stream-player.html',
  styleUrl: './stream-player.css',
})
export class StreamPlayer implements AfterViewInit, OnDestroy {
  readonly src = input.required<string>();
  readonly timeline = input.required<FrameTimeline>();
  /** Told what is drawn at each frame, for the trace's "drawn" stage (none: not reported). */
  readonly draws = input<DrawTally | null>(null);
  readonly kinds = input.required<ReadonlySet<string>>();
  /** Each kind's box colour, by its key (unknown kinds: a neutral one). */
  readonly colours = input<Readonly<Record<string, string>>>({});
  /** Whether a publisher is on the stream now (its state badge). */
  readonly live = input(false);
  /** A wall clock to start at instead of the live edge (a replayed moment). */
  readonly startAt = input<Date | null>(null);
  /** Results older than this (one sampling interval and some) are not drawn. */
  readonly maxAgeMs = input(900);
  /** How far behind live to play so results arrive before their frame (null: hls.js's default). */
  readonly holdBackS = input<number | null>(null);
  /** The wall clock the viewer sought to: results there may predate this page. */
  // eslint-disable-next-line @angular-eslint/no-output-native -- the video's own `seeked` does not bubble to the host
  readonly seeked = output<Date>();
  protected readonly latencyS = signal<number | null>(null);
  /** Set when results come later than the live window lets the player wait. */
  protected readonly resultsLateS = signal<number | null>(null);
  private lastHoldBackSeek = 0;
  protected readonly error = signal<string | null>(null);
  /** The stream has no playlist yet (never published): the player keeps asking. */
  protected readonly notPublished = signal(false);
  private readonly video = viewChild.required<ElementRef<HTMLVideoElement>>('video');
  private readonly canvas = viewChild.required<ElementRef<HTMLCanvasElement>>('canvas');
  private hls?: Hls;
  private fragments: Fragment[] = [];
  private renderer?: OverlayRenderer;
  private resize?: ResizeObserver;
  private stopped = false;
  private startApplied = false;
  /** Whether the loaded playlist is still live (null until one is loaded). */
  private playingLive: boolean | null = null;
  private newSessionRetry?: ReturnType<typeof setTimeout>;

  constructor() {
    effect(() => {
      if (this.live()) untracked(() => this.awaitNewSession());
    });
  }

  ngAfterViewInit(): void {
    const video = this.video().nativeElement;
    const canvas = this.canvas().nativeElement;
    this.renderer = new OverlayRenderer(canvas, (kind) => this.colours()[kind]);
    this.resize = new ResizeObserver(() => {
      canvas.width = video.clientWidth;
      canvas.height = video.clientHeight;
    });
    this.resize.observe(video);
    if (!Hls.isSupported()) {
      this.error.set('This browser cannot play HLS with Media Source Extensions.');
      return;
    }
    this.load();
    video.addEventListener('seeked', () => {
      const pdt = this.pdtAt(video.currentTime);
      if (pdt !== null) this.seeked.emit(new Date(pdt));
    });
    video.requestVideoFrameCallback(this.onFrame);
  }

  /** A fresh hls.js on the stream's live playlist (a new session has a timeline of its own). */
  private load(): void {
    this.hls?.destroy();
    this.fragments = [];
    this.playingLive = null;
    this.error.set(null);
    const video = this.video().nativeElement;
    const hls = new Hls({
      liveSyncDurationCount: LIVE_SYNC_SEGMENTS,
      maxBufferLength: 10,
      manifestLoadPolicy: {
        default: untilPublished(Hls.DefaultConfig.manifestLoadPolicy.default, () => this.notPublished.set(true)),
      },
    });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_LOADED, () => this.notPublished.set(false));
    hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
      this.fragments = data.details.fragments;
      this.holdBack(data.details.targetduration, data.details.totalduration);
    });
    hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
      this.fragments = data.details.fragments;
      this.seekToStart();
      this.playingLive = data.details.live;
      if (!data.details.live) this.awaitNewSession();
    });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) this.error.set(`Playback stopped: ${data.details}`);
    });
    hls.loadSource(this.src());
    hls.attachMedia(video);
    video.muted = true;
    video.play().catch(() => undefined); // autoplay may wait for a click
  }

  /** A publisher started while a finished session is loaded (the page was open while OBS
   * stopped and started again, or opened on a recording): hls.js never asks a finished
   * playlist again. While the stream is live, the player asks the live URL every second and
   * loads it anew once it serves a session still going: the new one's playlist is written at
   * its first segment, and until then the URL serves the finished one, which is not replayed.
   * A replayed moment (`startAt`) is left where it is. */
  private awaitNewSession(): void {
    clearTimeout(this.newSessionRetry);
    if (this.stopped || !this.live() || this.playingLive !== false || this.startAt()) return;
    this.newSessionRetry = setTimeout(async () => {
      const served = await this.liveSessionServed();
      if (served && !this.stopped) this.load();
      else this.awaitNewSession();
    }, NEW_SESSION_RETRY_MS);
  }

  private async liveSessionServed(): Promise<boolean> {
    try {
      const response = await fetch(this.src(), { cache: 'no-store', signal: AbortSignal.timeout(5000) });
      return response.ok && !(await response.text()).includes('#EXT-X-ENDLIST');
    } catch {
      return false; // the server is away: ask again at the next tick
    }
  }

  ngOnDestroy(): void {
    this.stopped = true;
    clearTimeout(this.newSessionRetry);
    this.resize?.disconnect();
    this.hls?.destroy();
  }

  private readonly onFrame = (_now: number, metadata: VideoFrameCallbackMetadata): void => {
    if (this.stopped) return;
    const video = this.video().nativeElement;
    const pdt = this.pdtAt(metadata.mediaTime);
    if (pdt !== null && this.renderer) {
      // A result belongs to the frame it was computed from; the two clocks' rounding
      // (ms PDT, float media time) must not push it one frame late.
      const hit = this.timeline().at(pdt + CLOCK_TOLERANCE_MS, this.maxAgeMs());
      const content = containedRect(video.clientWidth, video.clientHeight, metadata.width, metadata.height);
      const opacity = hit ? 1 - (0.6 * Math.max(0, hit.ageMs)) / this.maxAgeMs() : 0; // older boxes fade
      const drawn = this.renderer.draw(
        hit ? this.smoothed(hit.frame, hit.ageMs, pdt) : null,
        content,
        this.kinds(),
        opacity,
      );
      window.mediaAnalyzerOverlay = { framePdtMs: pdt, resultPdt: hit?.frame.pdt ?? null, drawn, content };
      this.draws()?.shown(pdt, hit ? Date.parse(hit.frame.pdt) : null, Date.now());
      this.latencyS.set((Date.now() - pdt) / 1000);
    }
    video.requestVideoFrameCallback(this.onFrame);
  };

  /** Keeps playback at least `holdBackS` behind the live edge (never nearer than hls.js's
   * own distance), as far as the playlist's window allows: hls.js keeps the target, and a
   * player that is nearer the edge steps back once. When even the window is too short, the
   * page says so. */
  private holdBack(segmentS: number, windowS: number): void {
    const wanted = this.holdBackS();
    const hls = this.hls;
    if (!hls || wanted === null || this.startAt()) {
      this.resultsLateS.set(null);
      return;
    }
    const longest = windowS - 2 * segmentS; // room to load the next segment before it leaves
    const target = Math.max(LIVE_SYNC_SEGMENTS * segmentS, Math.min(wanted, longest));
    this.resultsLateS.set(wanted > longest ? wanted : null);
    if (Math.abs((hls.targetLatency ?? 0) - target) >= 0.5) hls.targetLatency = target;
    const video = this.video().nativeElement;
    const short = target - hls.latency;
    if (video.paused || hls.latency <= 0) return; // nothing plays yet: nothing to step back from
    if (short >= HOLD_BACK_SEEK_MIN_S && Date.now() - this.lastHoldBackSeek > HOLD_BACK_SEEK_EVERY_MS) {
      this.lastHoldBackSeek = Date.now();
      video.currentTime = Math.max(0, video.currentTime - short);
    }
  }

  /** The result's boxes moved toward the next result's, in proportion to where this
   * frame lies between the two (results more than a sampling gap apart are not joined). */
  private smoothed(frame: AnalysisFrame, ageMs: number, pdt: number): AnalysisFrame {
    const next = this.timeline().after(pdt + CLOCK_TOLERANCE_MS, this.maxAgeMs());
    return next ? interpolated(frame, next.frame, ageMs / (ageMs + next.inMs)) : frame;
  }

  /** Once, when the first playlist with that moment arrives. */
  private seekToStart(): void {
    const at = this.startAt()?.getTime();
    if (at === undefined || this.startApplied) return;
    const fragment = [...this.fragments].reverse().find((f) => f.programDateTime !== null && f.programDateTime <= at);
    if (!fragment) return;
    this.startApplied = true;
    this.video().nativeElement.currentTime = fragment.start + (at - fragment.programDateTime!) / 1000;
  }

  /** Wall clock of a media time: its fragment's PDT plus the offset into the fragment. */
  private pdtAt(mediaTime: number): number | null {
    for (let i = this.fragments.length - 1; i >= 0; i--) {
      const fragment = this.fragments[i];
      if (fragment.start <= mediaTime + 1e-3 && fragment.programDateTime !== null) {
        return fragment.programDateTime + (mediaTime - fragment.start) * 1000;
      }
    }
    return null;
  }
}
