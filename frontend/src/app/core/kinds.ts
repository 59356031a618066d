import { Injectable, computed, inject, signal } from '@angular/core';
import { Api, KindInfo } from './api';

/** For a kind the API did not name (or before it answered). */
export const FALLBACK_COLOUR = '#e5e7eb';

/** The detection kinds, their labels and colours, as the analyzer plug-ins declare them:
 * fetched once, so a new analyzer's kind needs no change here. */
@Injectable({ providedIn: 'root' })
export class Kinds {
  private readonly api = inject(Api);
  private loading?: Promise<void>;
  readonly all = signal<KindInfo[]>([]);
  /** The kinds with boxes on the overlay: one toggle each. */
  readonly boxed = computed(() => this.all().filter((kind) => kind.boxes));
  readonly colours = computed<Readonly<Record<string, string>>>(() =>
    Object.fromEntries(this.all().map((kind) => [kind.key, kind.colour])),
  );

  /** Once per page load; a failed fetch is tried again on the next call. */
  load(): Promise<void> {
    this.loading ??= this.api.kinds().then(
      (kinds) => this.all.set(kinds),
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  colour(kind: string): string {
    return this.colours()[kind] ?? FALLBACK_COLOUR;
  }
}
