/** Display helpers shared by the exposure views. */

export function seconds(value: number): string {
  if (value < 60) return `${value.toFixed(1)} s`;
  const minutes = Math.floor(value / 60);
  return `${minutes} min ${Math.round(value - minutes * 60)} s`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

/** Screen-time bars and timeline lanes: a brand's position along [0, 1] of a range. */
export function fraction(at: string | Date, since: Date, until: Date): number {
  const span = until.getTime() - since.getTime();
  if (span <= 0) return 0;
  return Math.min(1, Math.max(0, (new Date(at).getTime() - since.getTime()) / span));
}
