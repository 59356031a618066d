import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { Api, StreamInfo, StreamWithKey } from '../../core/api';
import { ObsSettings } from './obs-settings';

@Component({
  selector: 'app-stream-list-page',
  imports: [FormsModule, RouterLink, ObsSettings],
  templateUrl: './stream-list-page.html',
  styleUrl: './stream-list-page.css',
})
export class StreamListPage implements OnInit {
  private readonly api = inject(Api);
  protected readonly streams = signal<StreamInfo[]>([]);
  protected readonly revealed = signal<StreamWithKey | null>(null);
  protected readonly error = signal<string | null>(null);
  protected name = '';

  async ngOnInit(): Promise<void> {
    this.streams.set(await this.api.streams());
  }

  protected async createStream(): Promise<void> {
    this.error.set(null);
    try {
      const created = await this.api.createStream(this.name.trim());
      this.revealed.set(created);
      this.streams.update((streams) => [created, ...streams]);
      this.name = '';
    } catch {
      this.error.set('The stream could not be created: check the name.');
    }
  }

  protected async rotateKey(stream: StreamInfo): Promise<void> {
    if (confirm(`Rotate the key of “${stream.name}”? OBS must then use the new key.`)) {
      this.revealed.set(await this.api.rotateKey(stream.id));
    }
  }
}
