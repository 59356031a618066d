import { HttpClient, HttpEventType, HttpErrorResponse } from '@angular/common/http';
import { Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { StreamInfo } from '../../core/api';

/** Upload a video for batch analysis; its results then play on the same player. */
@Component({
  selector: 'app-upload-page',
  imports: [RouterLink],
  template: `
    <h1>Upload a video</h1>
    <p class="hint">MP4, MOV or MKV with H.264 video. It is analysed in batch mode, every segment.</p>
    <label for="video-file">Video file</label>
    <input id="video-file" type="file" accept="video/mp4,video/quicktime,video/x-matroska,.mkv"
           (change)="upload($any($event.target).files?.[0])" [disabled]="progress() !== null" />
    @if (progress() !== null) {
      <progress max="100" [value]="progress()" aria-label="Upload progress">{{ progress() }}%</progress>
    }
    @if (error(); as message) { <p class="error" role="alert">{{ message }}</p> }
    @if (created(); as stream) {
      <p>Uploaded. <a [routerLink]="['/streams', stream.id]">Open “{{ stream.name }}”</a> to see its results.</p>
    }
  `,
  styles: `
    progress { display: block; width: 100%; max-width: 30rem; margin: 1rem 0; }
    .hint { color: var(--muted); } .error { color: var(--danger); }
  `,
})
export class UploadPage {
  private readonly http = inject(HttpClient);
  protected readonly progress = signal<number | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly created = signal<StreamInfo | null>(null);

  protected upload(file: File | undefined): void {
    if (!file) return;
    const form = new FormData();
    form.append('file', file);
    this.error.set(null);
    this.created.set(null);
    this.progress.set(0);
    this.http.post<StreamInfo>('/api/uploads/', form, { reportProgress: true, observe: 'events' }).subscribe({
      next: (event) => {
        if (event.type === HttpEventType.UploadProgress && event.total) {
          this.progress.set(Math.round((100 * event.loaded) / event.total));
        } else if (event.type === HttpEventType.Response) {
          this.created.set(event.body);
          this.progress.set(null);
        }
      },
      error: (response: HttpErrorResponse) => {
        this.error.set(response.error?.error?.fields?.file?.[0] ?? 'The upload failed.');
        this.progress.set(null);
      },
    });
  }
}
