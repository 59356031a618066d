/** The moment a click on the exposure timeline points at, for "missed here". */

/** The wall clock under `clientX` on a track spanning [since, until] from `left`, `width` px wide. */
export function momentAt(clientX: number, left: number, width: number, since: Date, until: Date): Date {
  const share = width > 0 ? Math.min(1, Math.max(0, (clientX - left) / width)) : 0;
  return new Date(since.getTime() + share * (until.getTime() - since.getTime()));
}

/** A `datetime-local` input's value (local time, to the second) for a moment. */
export function localInputValue(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}
