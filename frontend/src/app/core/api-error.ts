/** What an API error says to the user: the first message of the error envelope. */

export function errorMessage(failure: unknown, fallback: string): string {
  const fields = (failure as { error?: { error?: { fields?: Record<string, unknown> } } })?.error?.error?.fields ?? {};
  const first = Object.values(fields).flat()[0];
  return typeof first === 'string' ? first : fallback;
}
