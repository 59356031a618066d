import { Component, input, signal } from '@angular/core';

/** What to type into OBS (Settings → Stream, and Output): shown after creating a stream or
 * rotating its key, the only times the key is visible. */
@Component({
  selector: 'app-obs-settings',
  template: `
    <section class="obs" aria-labelledby="obs-title">
      <h2 id="obs-title">Stream from OBS</h2>
      <p>Settings → Stream → Service <strong>Custom…</strong></p>
      <label>Server
        <span class="field"><input readonly [value]="server()" /><button type="button" (click)="copy('server', server())">{{ copied() === 'server' ? 'Copied' : 'Copy' }}</button></span>
      </label>
      <label>Stream key
        <span class="field"><input readonly [value]="streamKey()" type="text" /><button type="button" (click)="copy('key', streamKey())">{{ copied() === 'key' ? 'Copied' : 'Copy' }}</button></span>
      </label>
      <p class="warning">The key is shown only now. Keep it secret; rotate it if it leaks.</p>
      <h3>Recommended output settings</h3>
      <ul>
        <li>Encoder x264 or hardware H.264, rate control CBR, 4500–6000 kbps at 1080p30</li>
        <li>Keyframe interval <strong>2 s</strong> (1 s for low latency): segments are cut on keyframes</li>
        <li>Profile high, tune zerolatency; audio AAC 128–160 kbps, 48 kHz</li>
      </ul>
    </section>
  `,
  styles: `
    .obs { background: var(--panel); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
    label { display: block; margin: 0.5rem 0; }
    .field { display: flex; gap: 0.5rem; } .field input { flex: 1; font-family: monospace; }
    .warning { color: var(--warning); }
  `,
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
