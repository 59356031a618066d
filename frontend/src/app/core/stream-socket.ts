import { Injectable, OnDestroy, inject, signal } from '@angular/core';
import { DrawTally } from './draw-tally';
import { FrameTimeline } from './frame-timeline';
import { Api } from './api';
import type {
  AlertFired,
  AnalysisFrame,
  AnalysisSegment,
  BrandTotals,
  ClientMessage,
  PipelineStats,
  ServerMessage,
  StreamState,
} from './protocol';

const RETRY_MS = [500, 1000, 2000, 5000];
const ALERTS_KEPT = 20;
const SEGMENTS_KEPT = 30;
/** How long a skipped message number may still arrive (out of order) before it is refetched. */
export const GAP_WAIT_MS = 1000;
/** Live results whose delay (frame to arrival) the player's hold-back is based on. */
const DELAYS_KEPT = 60;
/** How far back a refetch reaches when nothing had arrived before the gap. */
const REFETCH_BACK_MS = 30_000;
/** A refetch starts this much before the last frame received: missed frames may be older. */
const REFETCH_OVERLAP_MS = 2_000;
/** A viewer that keeps missing messages refetches at most this often. */
const REFETCH_EVERY_MS = 5_000;
/** Numbers this far below the next expected one mean the counter restarted (Redis flushed). */
const SEQ_RESTART = 1000;
/** How often the player's drawings are reported (the server takes one report per 2 s at most). */
export const DRAWN_REPORT_MS = 5_000;

/** One stream's live events: state and stats as signals, analysis frames into a timeline
 * ordered by wall clock, which the overlay reads at each displayed frame. */
@Injectable()
export class StreamSocket implements OnDestroy {
  readonly state = signal<StreamState | null>(null);
  readonly stats = signal<PipelineStats | null>(null);
  readonly latest = signal<AnalysisFrame | null>(null);
  /** Running brand exposure totals for the whole stream, most screen time first. */
  readonly exposure = signal<BrandTotals[]>([]);
  /** The last SEGMENTS_KEPT segments' outcomes (done, degraded, skipped, failed), newest first. */
  readonly segments = signal<AnalysisSegment[]>([]);
  /** Alerts fired while this page is open, newest first. */
  readonly alerts = signal<AlertFired[]>([]);
  readonly connected = signal(false);
  /** p95 of the seconds from a frame to its results arriving here, over the last DELAYS_KEPT. */
  readonly resultsDelayP95S = signal<number | null>(null);
  private readonly delays: number[] = [];
  /** Gaps in the message numbers that were filled from the REST API. */
  readonly gapsRefetched = signal(0);
  readonly timeline = new FrameTimeline();
  /** The player's drawings of live results, reported to the server (the trace's "drawn"). */
  readonly draws = new DrawTally();
  private drawnReports?: ReturnType<typeof setInterval>;
  private readonly api = inject(Api);
  private socket?: WebSocket;
  private nextSeq: number | null = null;
  private readonly missing = new Set<number>();
  private gapSince: number | null = null; // wall clock (ms) of the last frame before the gap
  private gapTimer?: ReturnType<typeof setTimeout>;
  private lastRefetch = 0;
  private streamId?: string;
  private attempts = 0;
  private closed = false;

  connect(streamId: string): void {
    this.streamId = streamId;
    this.closed = false;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/ws/streams/${streamId}/`);
    socket.onopen = () => {
      this.connected.set(true);
      this.attempts = 0;
    };
    socket.onmessage = (event) => this.receive(JSON.parse(event.data) as ServerMessage);
    socket.onclose = (event) => {
      this.connected.set(false);
      // 4401/4404: not signed in or not ours; retrying will not help.
      if (!this.closed && event.code < 4400) {
        setTimeout(() => this.connect(streamId), RETRY_MS[Math.min(this.attempts++, RETRY_MS.length - 1)]);
      }
    };
    this.socket = socket;
    this.drawnReports ??= setInterval(() => this.reportDrawn(), DRAWN_REPORT_MS);
  }

  private reportDrawn(): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return; // kept (the newest) until it is
    const frames = this.draws.take();
    if (frames.length) this.send({ type: 'player.drawn', frames });
  }

  private send(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message));
  }

  receive(message: ServerMessage): void {
    if (message.type === 'snapshot') this.restartNumbering(message.seq);
    else if ('seq' in message && message.seq !== undefined) this.numbered(message.seq);
    switch (message.type) {
      case 'snapshot':
        this.state.set(message.stream);
        message.frames.forEach((frame) => this.addFrame(frame));
        if (message.exposure) this.exposure.set(message.exposure);
        if (message.alerts) this.alerts.set(message.alerts.slice(0, ALERTS_KEPT));
        break;
      case 'stream.state':
        this.state.set(message);
        break;
      case 'analysis.frame':
        this.draws.arrived(Date.parse(message.pdt), Date.now());
        this.addFrame(message);
        this.delayed(message.pdt);
        break;
      case 'brand.exposure':
        this.exposure.set(message.brands);
        break;
      case 'analysis.segment':
        this.segments.update((segments) => [message, ...segments].slice(0, SEGMENTS_KEPT));
        break;
      case 'alert.fired':
        this.alerts.update((alerts) => [message, ...alerts].slice(0, ALERTS_KEPT));
        break;
      case 'pipeline.stats':
        this.stats.set(message);
        break;
      case 'error':
        console.warn(`stream ${this.streamId}: ${message.code}: ${message.message}`);
        break;
    }
  }

  ngOnDestroy(): void {
    this.closed = true;
    clearTimeout(this.gapTimer);
    clearInterval(this.drawnReports);
    this.socket?.close();
  }

  private delayed(pdt: string): void {
    this.delays.push(Math.max(0, (Date.now() - Date.parse(pdt)) / 1000)); // clocks may differ a little
    if (this.delays.length > DELAYS_KEPT) this.delays.shift();
    const sorted = [...this.delays].sort((a, b) => a - b);
    this.resultsDelayP95S.set(sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]);
  }

  private restartNumbering(last: number): void {
    this.nextSeq = last + 1;
    this.missing.clear();
    this.gapSince = null;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  /** Notes the numbers skipped before `seq`; those still missing after GAP_WAIT_MS are refetched. */
  private numbered(seq: number): void {
    if (this.nextSeq !== null && seq < this.nextSeq - SEQ_RESTART) this.restartNumbering(seq - 1);
    if (this.nextSeq === null || seq >= this.nextSeq) {
      if (this.nextSeq !== null && seq > this.nextSeq) {
        this.gapSince ??= this.latestMs();
        // Bounded: a gap of thousands is one refetch, whatever its size.
        for (let skipped = Math.max(this.nextSeq, seq - 1000); skipped < seq; skipped++) this.missing.add(skipped);
      }
      this.nextSeq = seq + 1;
    } else {
      this.missing.delete(seq); // late, not lost
    }
    if (!this.missing.size) this.gapSince = null;
    if (this.missing.size && this.gapTimer === undefined) {
      const wait = Math.max(GAP_WAIT_MS, this.lastRefetch + REFETCH_EVERY_MS - Date.now());
      this.gapTimer = setTimeout(() => this.refetch(), wait);
    }
  }

  private async refetch(): Promise<void> {
    this.gapTimer = undefined;
    const since = new Date((this.gapSince ?? Date.now() - REFETCH_BACK_MS) - REFETCH_OVERLAP_MS);
    this.gapSince = null;
    if (!this.missing.size || !this.streamId) return;
    this.missing.clear();
    this.lastRefetch = Date.now();
    const id = this.streamId;
    try {
      const [frames, exposure, stream] = await Promise.all([
        this.api.frames(id, since, new Date()),
        this.api.exposure(id),
        this.api.stream(id),
      ]);
      frames.forEach((frame) => this.addFrame(frame));
      this.exposure.set(exposure.brands);
      this.state.update((state) => state && { ...state, status: stream.status, live_since: stream.live_since });
      this.gapsRefetched.update((count) => count + 1);
    } catch (error) {
      console.warn(`stream ${id}: refetching missed messages failed`, error);
    }
  }

  private latestMs(): number {
    const latest = this.latest();
    return latest ? Date.parse(latest.pdt) : Date.now() - REFETCH_BACK_MS;
  }

  private addFrame(frame: AnalysisFrame): void {
    const known = this.timeline.add(frame);
    const latest = this.latest();
    if (!latest || Date.parse(known.pdt) >= Date.parse(latest.pdt)) this.latest.set(known);
  }
}
