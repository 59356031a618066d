import { describe, expect, it } from 'vitest';
import { StreamSocket } from './stream-socket';

describe('StreamSocket.receive', () => {
  it('fills state from the snapshot, then follows live events', () => {
    const socket = new StreamSocket();
    const state = { type: 'stream.state', v: 1, stream_id: 's', status: 'offline', live_since: null } as const;

    socket.receive({ type: 'snapshot', v: 1, stream: state, frames: [
      { type: 'analysis.frame', v: 1, stream_id: 's', segment_seq: 0, pts: 0, pdt: '2026-11-24T12:00:00Z', detections: [] },
    ] });
    socket.receive({ ...state, status: 'live', live_since: '2026-11-24T12:00:00Z' });

    expect(socket.timeline.size).toBe(1);
    expect(socket.state()?.status).toBe('live');
  });

  it('keeps the running brand totals and the newest alerts first', () => {
    const socket = new StreamSocket();
    const totals = {
      brand_id: 1, brand: 'Acme', appearances: 2, screen_time_s: 12.5, share_of_screen_mean: 0.04,
      share_of_screen_time_weighted: 0.01, share_of_screen_max: 0.06, heatmap: { grid: 3, cells: [1, 0, 0, 0, 0, 0, 0, 0, 0] },
      prominence: 0.2, first_seen: '2026-11-24T12:00:00Z', last_seen: '2026-11-24T12:00:20Z',
      confidence_mean: 0.8, confidence_max: 0.9, screen_time_by_source_s: { logo: 12.5 },
    };
    const alert = (rule_id: number) => ({
      type: 'alert.fired' as const, v: 1 as const, rule_id, rule: `rule ${rule_id}`, condition: 'appears' as const,
      seconds: 0, stream_id: 's', brand_id: 1, brand: 'Acme', appearance_id: 7, track_id: 1,
      start_pdt: '2026-11-24T12:00:00Z', on_screen_s: 1,
    });

    socket.receive({ type: 'brand.exposure', v: 1, stream_id: 's', brands: [totals] });
    socket.receive(alert(1));
    socket.receive(alert(2));

    expect(socket.exposure()[0].screen_time_s).toBe(12.5);
    expect(socket.alerts().map((a) => a.rule_id)).toEqual([2, 1]);
  });
});
