import { HttpClient, HttpEventType, HttpErrorResponse } from '@angular/common/http';
import { Component, DestroyRef, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, StreamInfo } from '../../core/api';

export const POLL_MS = 1000;

/** Upload a video for batch analysis; its results then play on the same player. The server
 * answers once the file is checked (202, `processing`) and remuxes it in the background:
 * its progress is polled every second until the stream is `ended` or `failed`. */
@Component({
  selector: 'app-upload-page',
  imports: [RouterLink],
  templateUrl: './upload-page.html',
  styleUrl: './upload-page.css',
})
export class UploadPage {
  private readonly http = inject(HttpClient);
  private readonly api = inject(Api);
  protected readonly progress = signal<number | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly created = signal<StreamInfo | null>(null);
  protected readonly busy = signal(false);
  private poll: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.poll));
  }

  protected percent(stream: StreamInfo): number {
    return Math.round(100 * (stream.upload_progress ?? 0));
  }

  protected upload(file: File | undefined): void {
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    this.error.set(null);
    this.created.set(null);
    this.progress.set(0);
    this.busy.set(true);
    this.http.post<StreamInfo>('/api/uploads/', form, { reportProgress: true, observe: 'events' }).subscribe({
      next: (event) => {
        if (event.type === HttpEventType.UploadProgress && event.total) {
          this.progress.set(Math.round((100 * event.loaded) / event.total));
        } else if (event.type === HttpEventType.Response && event.body) {
          this.progress.set(null);
          this.follow(event.body);
        }
      },
      error: (response: HttpErrorResponse) => {
        this.error.set(response.error?.error?.fields?.file?.[0] ?? 'The upload failed.');
        this.progress.set(null);
        this.busy.set(false);
      },
    });
  }

  /** Shows the stream, and polls it while its upload is being processed. */
  private follow(stream: StreamInfo): void {
    this.created.set(stream);
    if (stream.status !== 'processing') {
      this.busy.set(false);
      return;
    }
    this.poll = setTimeout(async () => {
      try {
        this.follow(await this.api.stream(stream.id));
      } catch {
        this.follow(stream); // a blip: ask again in a second
      }
    }, POLL_MS);
  }
}
