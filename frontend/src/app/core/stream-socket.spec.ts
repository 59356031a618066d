import { TestBed } from '@angular/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from './api';
import type { AnalysisFrame } from './protocol';
import { GAP_WAIT_MS, StreamSocket } from './stream-socket';

const frame = (seq: number, pdt: string): AnalysisFrame => ({
  type: 'analysis.frame',
  v: 1,
  seq,
  stream_id: 's',
  segment_seq: 0,
  pts: 0,
  pdt,
  detections: [],
});

/** What the REST API holds: the frames the socket skipped among them. */
const api = {
  frames: vi.fn(async (_id: string, _since: Date, _until: Date) => [
    frame(1, '2026-11-24T12:00:01Z'),
    frame(1, '2026-11-24T12:00:02Z'),
  ]),
  exposure: vi.fn(async () => ({ stream_id: 's', since: null, until: null, range_s: 0, brands: [] })),
  stream: vi.fn(async () => ({ status: 'live', live_since: '2026-11-24T12:00:00Z' })),
};

/** A live stream's snapshot whose last message was number `seq`. */
const snapshot = (seq: number) => ({
  type: 'snapshot' as const,
  v: 1 as const,
  seq,
  frames: [],
  stream: { type: 'stream.state' as const, v: 1 as const, stream_id: 's', status: 'live' as const, live_since: null },
});

function newSocket(): StreamSocket {
  TestBed.configureTestingModule({ providers: [StreamSocket, { provide: Api, useValue: api }] });
  const socket = TestBed.inject(StreamSocket);
  (socket as unknown as { streamId: string }).streamId = 's';
  return socket;
}

beforeEach(() => vi.clearAllMocks());
afterEach(() => vi.useRealTimers());

describe('StreamSocket.receive', () => {
  it('fills state from the snapshot, then follows live events', () => {
    const socket = newSocket();
    const state = { type: 'stream.state', v: 1, stream_id: 's', status: 'offline', live_since: null } as const;

    socket.receive({
      type: 'snapshot',
      v: 1,
      seq: 0,
      stream: state,
      frames: [
        {
          type: 'analysis.frame',
          v: 1,
          stream_id: 's',
          segment_seq: 0,
          pts: 0,
          pdt: '2026-11-24T12:00:00Z',
          detections: [],
        },
      ],
    });
    socket.receive({ ...state, status: 'live', live_since: '2026-11-24T12:00:00Z' });

    expect(socket.timeline.size).toBe(1);
    expect(socket.state()?.status).toBe('live');
  });

  it('keeps the running brand totals and the newest alerts first', () => {
    const socket = newSocket();
    const totals = {
      brand_id: 1,
      brand: 'Acme',
      appearances: 2,
      screen_time_s: 12.5,
      share_of_screen_mean: 0.04,
      share_of_screen_time_weighted: 0.01,
      share_of_screen_max: 0.06,
      heatmap: { grid: 3, cells: [1, 0, 0, 0, 0, 0, 0, 0, 0] },
      prominence: 0.2,
      first_seen: '2026-11-24T12:00:00Z',
      last_seen: '2026-11-24T12:00:20Z',
      confidence_mean: 0.8,
      confidence_max: 0.9,
      screen_time_by_source_s: { logo: 12.5 },
    };
    const alert = (rule_id: number) => ({
      type: 'alert.fired' as const,
      v: 1 as const,
      rule_id,
      rule: `rule ${rule_id}`,
      condition: 'appears' as const,
      seconds: 0,
      stream_id: 's',
      brand_id: 1,
      brand: 'Acme',
      appearance_id: 7,
      track_id: 1,
      start_pdt: '2026-11-24T12:00:00Z',
      on_screen_s: 1,
    });

    socket.receive({ type: 'brand.exposure', v: 1, stream_id: 's', brands: [totals] });
    socket.receive(alert(1));
    socket.receive(alert(2));

    expect(socket.exposure()[0].screen_time_s).toBe(12.5);
    expect(socket.alerts().map((a) => a.rule_id)).toEqual([2, 1]);
  });

  it('refetches from the REST API what a skipped message number missed', async () => {
    vi.useFakeTimers();
    const socket = newSocket();
    socket.receive(snapshot(10));
    socket.receive(frame(11, '2026-11-24T12:00:00Z'));
    socket.receive(frame(14, '2026-11-24T12:00:03Z')); // 12 and 13 skipped
    socket.receive(frame(12, '2026-11-24T12:00:01Z')); // 12 was only late

    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);

    expect(api.frames).toHaveBeenCalledTimes(1);
    expect(api.frames.mock.calls[0][1]).toEqual(new Date('2026-11-24T11:59:58Z')); // from the last frame before the gap, less 2 s
    expect(socket.timeline.size).toBe(4);
    expect(socket.gapsRefetched()).toBe(1);
  });

  it('refetches nothing when every number arrives, even out of order', async () => {
    vi.useFakeTimers();
    const socket = newSocket();
    socket.receive(snapshot(3));
    socket.receive(frame(5, '2026-11-24T12:00:01Z'));
    socket.receive(frame(4, '2026-11-24T12:00:00Z'));

    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 2);

    expect(api.frames).not.toHaveBeenCalled();
    expect(socket.gapsRefetched()).toBe(0);
  });

  it('a number only late leaves no stale gap: a later gap refetches from its own last frame', async () => {
    vi.useFakeTimers();
    const socket = newSocket();
    socket.receive(snapshot(0));
    socket.receive(frame(2, '2026-11-24T12:00:01Z'));
    socket.receive(frame(1, '2026-11-24T12:00:00Z')); // late, not lost
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 2);
    socket.receive(frame(3, '2026-11-24T12:10:00Z'));
    socket.receive(frame(5, '2026-11-24T12:10:02Z')); // 4 lost

    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS);

    expect(api.frames).toHaveBeenCalledTimes(1);
    expect(api.frames.mock.calls[0][1]).toEqual(new Date('2026-11-24T12:09:58Z'));
  });
});
