import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, StreamInfo } from '../../core/api';
import { POLL_MS, UploadPage } from './upload-page';

const info = (changes: Partial<StreamInfo>): StreamInfo => ({
  id: 's1',
  name: 'clip.mp4',
  status: 'processing',
  upload_progress: 0,
  status_reason: '',
  ingest_enabled: false,
  processing_mode: 'batch',
  analysis_enabled: true,
  enabled_analyzers: [],
  sampling_fps: 2,
  backfill_skipped: false,
  ingest_url: '',
  live_since: null,
  created_at: '2026-12-03T12:00:00Z',
  ...changes,
});

describe('the upload page', () => {
  const api = { stream: vi.fn<(id: string) => Promise<StreamInfo>>() };

  beforeEach(() => {
    vi.useFakeTimers();
    api.stream.mockReset();
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([]), { provide: Api, useValue: api }],
    });
  });

  afterEach(() => vi.useRealTimers());

  function uploaded(answer: StreamInfo) {
    const fixture = TestBed.createComponent(UploadPage);
    (fixture.componentInstance as unknown as { upload(file: File): void }).upload(new File(['x'], 'clip.mp4'));
    TestBed.inject(HttpTestingController)
      .expectOne('/api/uploads/')
      .flush(answer, { status: 202, statusText: 'Accepted' });
    fixture.detectChanges();
    return fixture;
  }

  async function tick(fixture: ReturnType<typeof uploaded>) {
    await vi.advanceTimersByTimeAsync(POLL_MS);
    fixture.detectChanges();
    return fixture.nativeElement.textContent as string;
  }

  it('shows the processing progress each second until the stream has ended', async () => {
    api.stream
      .mockResolvedValueOnce(info({ upload_progress: 0.5 }))
      .mockResolvedValueOnce(info({ status: 'ended', upload_progress: 1 }));
    const fixture = uploaded(info({}));
    expect(fixture.nativeElement.textContent).toContain('preparing its segments');

    expect(await tick(fixture)).toContain('50%');
    expect(await tick(fixture)).toContain('Ready.');
    expect(api.stream).toHaveBeenCalledTimes(2);
    await tick(fixture);
    expect(api.stream).toHaveBeenCalledTimes(2); // done: no more polling
  });

  it('shows why processing failed', async () => {
    api.stream.mockResolvedValueOnce(
      info({ status: 'failed', status_reason: 'the video could not be segmented: cut' }),
    );
    const fixture = uploaded(info({}));

    expect(await tick(fixture)).toContain('could not be processed: the video could not be segmented: cut');
  });
});
