import { Injectable, OnDestroy, signal } from '@angular/core';
import { FrameTimeline } from '../features/player/frame-timeline';
import type { AlertFired, AnalysisFrame, BrandTotals, PipelineStats, ServerMessage, StreamState } from './protocol';

const RETRY_MS = [500, 1000, 2000, 5000];
const ALERTS_KEPT = 20;

/** One stream's live events: state and stats as signals, analysis frames into a timeline
 * ordered by wall clock, which the overlay reads at each displayed frame. */
@Injectable()
export class StreamSocket implements OnDestroy {
  readonly state = signal<StreamState | null>(null);
  readonly stats = signal<PipelineStats | null>(null);
  readonly latest = signal<AnalysisFrame | null>(null);
  /** Running brand exposure totals for the whole stream, most screen time first. */
  readonly exposure = signal<BrandTotals[]>([]);
  /** Alerts fired while this page is open, newest first. */
  readonly alerts = signal<AlertFired[]>([]);
  readonly connected = signal(false);
  readonly timeline = new FrameTimeline();
  private socket?: WebSocket;
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
  }

  receive(message: ServerMessage): void {
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
        this.addFrame(message);
        break;
      case 'brand.exposure':
        this.exposure.set(message.brands);
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
    this.socket?.close();
  }

  private addFrame(frame: AnalysisFrame): void {
    const known = this.timeline.add(frame);
    const latest = this.latest();
    if (!latest || Date.parse(known.pdt) >= Date.parse(latest.pdt)) this.latest.set(known);
  }
}
