import { Component, Injectable, input, output } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, KindInfo, StreamInfo } from '../../core/api';
import { FrameTimeline } from '../../core/frame-timeline';
import { AnalysisFrame } from '../../core/protocol';
import { StreamSocket } from '../../core/stream-socket';
import type { DrawTally } from '../../core/draw-tally';
import { StreamPage } from './stream-page';
import { StreamPlayer } from './stream-player';

const stream: StreamInfo = {
  id: 's1',
  name: 'Match',
  status: 'live',
  upload_progress: null,
  status_reason: '',
  ingest_enabled: true,
  processing_mode: 'realtime',
  analysis_enabled: true,
  enabled_analyzers: [],
  sampling_fps: 2,
  backfill_skipped: false,
  ingest_url: '',
  live_since: null,
  created_at: '2026-12-03T12:00:00Z',
};

const kind = (key: string, label: string, colour: string, boxes = true): KindInfo => ({
  key,
  label,
  colour,
  boxes,
  analyzers: [key],
});

/** What the API names: `sharpness` only there, never in the dashboard's code. */
const KINDS = [
  kind('face', 'Faces', '#facc15'),
  kind('sharpness', 'Sharpness', '#38bdf8'),
  kind('scene', 'Scene', '#c084fc', false),
];

/** The player, without video: what the page hands it. */
@Component({ selector: 'app-stream-player', template: '' })
class FakePlayer {
  readonly src = input('');
  readonly timeline = input<FrameTimeline>();
  readonly draws = input<DrawTally | null>(null);
  readonly kinds = input.required<ReadonlySet<string>>();
  readonly colours = input<Readonly<Record<string, string>>>({});
  readonly startAt = input<Date | null>(null);
  readonly live = input(false);
  readonly maxAgeMs = input(900);
  readonly holdBackS = input<number | null>(null);
  // eslint-disable-next-line @angular-eslint/no-output-native -- as the real player's
  readonly seeked = output<Date>();
}

/** No WebSocket in a unit test. */
@Injectable()
class QuietSocket extends StreamSocket {
  override connect(): void {}
}

describe('the stream page', () => {
  const api = {
    stream: vi.fn(async () => stream),
    health: vi.fn(async () => ({ status: 'ok', analyzers: [] })),
    kinds: vi.fn(async () => KINDS),
    hlsUrl: (id: string) => `/api/streams/${id}/hls/live.m3u8`,
  };

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideRouter([]), { provide: Api, useValue: api }] });
    TestBed.overrideComponent(StreamPage, {
      remove: { imports: [StreamPlayer], providers: [StreamSocket] },
      add: { imports: [FakePlayer], providers: [{ provide: StreamSocket, useClass: QuietSocket }] },
    });
  });

  async function opened() {
    const fixture = TestBed.createComponent(StreamPage);
    fixture.componentRef.setInput('id', 's1');
    fixture.detectChanges();
    await fixture.whenStable();
    fixture.detectChanges();
    const element = fixture.nativeElement as HTMLElement;
    const player = fixture.debugElement.query((node) => node.componentInstance instanceof FakePlayer)
      .componentInstance as FakePlayer;
    return { fixture, element, player };
  }

  it('builds a toggle and a colour for each kind the API names, boxed kinds only', async () => {
    const { element, player } = await opened();

    const toggles = [...element.querySelectorAll('fieldset.kinds label')].map((label) => label.textContent?.trim());
    expect(toggles).toEqual(['Faces', 'Sharpness', 'low delay']);
    const swatch = element.querySelectorAll<HTMLElement>('fieldset.kinds .swatch')[1];
    expect(swatch.style.background).toBe('rgb(56, 189, 248)'); // #38bdf8
    expect([...player.kinds()]).toEqual(['face', 'sharpness']);
    expect(player.colours()['sharpness']).toBe('#38bdf8');
    expect(api.kinds).toHaveBeenCalledTimes(1);
  });

  it('hides a kind whose toggle is unticked, and shows it again', async () => {
    const { fixture, element, player } = await opened();
    const sharpness = element.querySelectorAll<HTMLInputElement>('fieldset.kinds input')[1];

    sharpness.click();
    fixture.detectChanges();
    expect([...player.kinds()]).toEqual(['face']);
    sharpness.click();
    fixture.detectChanges();
    expect([...player.kinds()]).toEqual(['face', 'sharpness']);
  });

  it('still draws the kinds on screen when the catalogue cannot be had', async () => {
    api.kinds.mockRejectedValueOnce(new Error('offline'));
    const { fixture, element, player } = await opened();
    const socket = fixture.debugElement.injector.get(StreamSocket);

    socket.latest.set({ detections: [{ kind: 'logo' }] } as unknown as AnalysisFrame);
    fixture.detectChanges();
    expect(element.querySelectorAll('fieldset.kinds .swatch').length).toBe(0); // no kind toggles
    expect([...player.kinds()]).toEqual(['logo']);
  });
});
