import { Component, input, signal } from '@angular/core';

/** What to type into OBS (Settings → Stream, and Output): shown after creating a stream or
 * rotating its key, the only times the key is visible. */
@Component({
  selector: 'app-obs-settings',
  templateUrl: './obs-settings.html',
  styleUrl: './obs-settings.css',
})
export class ObsSettings {
  readonly server = input.required<string>();
  readonly streamKey = input.required<string>();
  protected readonly copied = signal<string | null>(null);

  protected async copy(what: string, text: string): Promise<void> {
    await navigator.clipboard.writeText(text);
    this.copied.set(what);
  }
}
