import { describe, expect, it } from 'vitest';
import { FALLBACK_COLOUR } from '../../core/kinds';
import type { AnalysisFrame } from '../../core/protocol';
import { OverlayRenderer, containedRect } from './overlay-renderer';

/** A canvas whose 2D context records the rectangles stroked on it, and in which colour. */
function recordingCanvas() {
  const strokes: number[][] = [];
  const colours: string[] = [];
  const context = {
    clearRect() {},
    fillRect() {},
    fillText() {},
    measureText: () => ({ width: 40 }),
    strokeRect: (...box: number[]) => {
      strokes.push(box);
      colours.push(context.strokeStyle);
    },
    globalAlpha: 1,
    lineWidth: 1,
    font: '',
    strokeStyle: '',
    fillStyle: '',
  };
  const canvas = { width: 1000, height: 600, getContext: () => context } as unknown as HTMLCanvasElement;
  return { canvas, strokes, colours };
}

const frame: AnalysisFrame = {
  type: 'analysis.frame',
  v: 1,
  stream_id: 's',
  segment_seq: 0,
  pts: 0,
  pdt: '2026-11-24T12:00:00Z',
  detections: [
    {
      analyzer: 'faces',
      kind: 'face',
      label: 'face',
      confidence: 0.8,
      box: { x: 0.5, y: 0.25, w: 0.1, h: 0.2 },
      extra: {},
    },
    {
      analyzer: 'objects',
      kind: 'object',
      label: 'cup',
      confidence: 0.6,
      box: { x: 0, y: 0, w: 0.2, h: 0.2 },
      extra: {},
    },
    { analyzer: 'visual', kind: 'visual', label: 'frame', confidence: 1, box: { x: 0, y: 0, w: 1, h: 1 }, extra: {} },
  ],
};

describe('OverlayRenderer', () => {
  it('maps normalised boxes into the picture area, for the kinds shown', () => {
    const { canvas, strokes } = recordingCanvas();
    const content = { x: 100, y: 0, width: 800, height: 450 };

    const drawn = new OverlayRenderer(canvas).draw(frame, content, new Set(['face', 'visual']));

    expect(drawn.map((d) => d.label)).toEqual(['face']); // full-frame findings are not boxes
    expect(strokes).toEqual([[500, 112.5, 80, 90]]);
  });

  it('draws each kind in the colour it is given, one nobody named in a neutral one', () => {
    const { canvas, colours } = recordingCanvas();
    const named: Record<string, string> = { sharpness: '#38bdf8' }; // as the API names it
    const sharp = { ...frame.detections[0], analyzer: 'sharpness', kind: 'sharpness', label: 'sharp' };
    const shown = new Set(['sharpness', 'object']);

    const drawn = new OverlayRenderer(canvas, (kind) => named[kind]).draw(
      { ...frame, detections: [sharp, frame.detections[1]] },
      { x: 0, y: 0, width: 100, height: 100 },
      shown,
    );

    expect(drawn.map((d) => d.kind)).toEqual(['sharpness', 'object']);
    expect(colours).toEqual(['#38bdf8', FALLBACK_COLOUR]);
  });

  it('clears the overlay when there is no result', () => {
    const { canvas, strokes } = recordingCanvas();
    expect(new OverlayRenderer(canvas).draw(null, { x: 0, y: 0, width: 10, height: 10 }, new Set(['face']))).toEqual(
      [],
    );
    expect(strokes).toEqual([]);
  });
});

describe('containedRect', () => {
  it('letterboxes a 16:9 picture in a square element', () => {
    expect(containedRect(400, 400, 1920, 1080)).toEqual({ x: 0, y: 87.5, width: 400, height: 225 });
  });

  it('pillarboxes a 4:3 picture in a 16:9 element', () => {
    expect(containedRect(1600, 900, 640, 480)).toEqual({ x: 200, y: 0, width: 1200, height: 900 });
  });
});
