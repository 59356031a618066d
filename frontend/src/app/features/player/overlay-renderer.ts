import { FALLBACK_COLOUR } from '../../core/kinds';
import type { AnalysisFrame, Detection } from '../../core/protocol';

export interface ContentRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Draws a frame's boxes on a canvas laid over the video. A plain class: tests drive it
 * with any canvas and any clock. Full-frame findings (scene, colours) are not boxes. Each
 * kind's colour comes from `colourOf` (the API's kinds); an unknown kind's is neutral. */
export class OverlayRenderer {
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly colourOf: (kind: string) => string | undefined = () => undefined,
  ) {}

  draw(frame: AnalysisFrame | null, content: ContentRect, kinds: ReadonlySet<string>, opacity = 1): Detection[] {
    const context = this.canvas.getContext('2d');
    if (!context) return [];
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const drawn = (frame?.detections ?? []).filter((d) => kinds.has(d.kind) && !isFullFrame(d));
    context.globalAlpha = opacity;
    context.lineWidth = 2;
    context.font = '13px system-ui, sans-serif';
    for (const detection of drawn) {
      const colour = this.colourOf(detection.kind) ?? FALLBACK_COLOUR;
      const x = content.x + detection.box.x * content.width;
      const y = content.y + detection.box.y * content.height;
      const width = detection.box.w * content.width;
      const height = detection.box.h * content.height;
      context.strokeStyle = colour;
      context.strokeRect(x, y, width, height);
      const label = `${detection.label} ${Math.round(detection.confidence * 100)}%`;
      const labelWidth = context.measureText(label).width + 8;
      context.fillStyle = colour;
      context.fillRect(x, Math.max(0, y - 18), labelWidth, 18);
      context.fillStyle = '#0b1020';
      context.fillText(label, x + 4, Math.max(13, y - 5));
    }
    context.globalAlpha = 1;
    return drawn;
  }
}

function isFullFrame(detection: Detection): boolean {
  const { x, y, w, h } = detection.box;
  return x === 0 && y === 0 && w === 1 && h === 1;
}

/** Where a video's picture lies inside its element with `object-fit: contain`. */
export function containedRect(
  elementWidth: number,
  elementHeight: number,
  videoWidth: number,
  videoHeight: number,
): ContentRect {
  if (!videoWidth || !videoHeight) return { x: 0, y: 0, width: elementWidth, height: elementHeight };
  const scale = Math.min(elementWidth / videoWidth, elementHeight / videoHeight);
  const width = videoWidth * scale;
  const height = videoHeight * scale;
  return { x: (elementWidth - width) / 2, y: (elementHeight - height) / 2, width, height };
}
