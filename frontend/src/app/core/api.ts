import { HttpClient } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type { AnalysisFrame, BrandTotals } from './protocol';

export type ProcessingMode = 'realtime' | 'batch';

export interface StreamInfo {
  id: string;
  name: string;
  /** processing: an upload being remuxed to segments; failed: one that could not be (status_reason). */
  status: 'offline' | 'live' | 'ended' | 'processing' | 'failed';
  /** Uploads: how much is remuxed to segments, 0 to 1; null for live streams. */
  upload_progress: number | null;
  status_reason: string;
  ingest_enabled: boolean;
  processing_mode: ProcessingMode;
  analysis_enabled: boolean;
  enabled_analyzers: string[];
  sampling_fps: number;
  /** Realtime mode: segments skipped as stale are analysed later, for the record. */
  backfill_skipped: boolean;
  ingest_url: string;
  live_since: string | null;
  created_at: string;
}

export interface StreamWithKey extends StreamInfo {
  stream_key: string;
}

export interface AnalyzerStatus {
  name: string;
  state: 'ready' | 'disabled' | 'error';
  message?: string;
}

/** A `Detection.kind`, as its analyzer plug-in declares it (`GET /api/kinds/`). */
export interface KindInfo {
  key: string;
  label: string;
  colour: string; // #rrggbb: its boxes and swatch
  boxes: boolean; // false: whole-frame findings (scene, colours), no box to draw or toggle
  analyzers: string[];
}

export interface Health {
  status: string;
  analyzers: AnalyzerStatus[];
}

export interface ReferenceImage {
  id: number;
  url: string;
  width: number;
  height: number;
}

/** The brand's logo verifier, built from its reference images on upload. */
export interface LogoVerifier {
  state: 'none' | 'building' | 'ready' | 'failed';
  seconds: number | null;
  precision: number | null; // self-test on held-back synthetic views
  recall: number | null;
  warnings: string[];
}

export type CorrectionKind = 'negative' | 'positive';

/** "Not this brand" (negative) or "missed here" (positive), made on the exposure report. */
export interface LogoCorrection {
  id: number;
  brand: number;
  kind: CorrectionKind;
  stream: string | null;
  pts: number | null;
  width: number;
  height: number;
  box: [number, number, number, number]; // the logo inside the crop, px
  image_url: string;
  created_at: string;
}

export interface Brand {
  id: number;
  name: string;
  aliases: string[];
  reference_images: ReferenceImage[];
  verifier: LogoVerifier;
  corrections: Record<CorrectionKind, number>;
}

export interface RejectResult {
  negatives: number; // crops stored as negatives (0 when the video had expired)
}

/** A box normalised to 0..1 of the frame. */
export interface NormalisedBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** "Missed here": the moment by wall clock (`at`) or stream seconds (`pts`); no box: the brand's best candidate. */
export interface MissedRequest {
  brand: number;
  at?: string;
  pts?: number;
  box?: NormalisedBox;
}

export interface ExposureSummary {
  stream_id: string;
  since: string | null;
  until: string | null;
  range_s: number;
  brands: BrandTotals[];
}

export interface Appearance {
  id: number;
  track_id: number;
  brand: number;
  brand_name: string;
  start_pdt: string;
  end_pdt: string;
  duration_s: number;
  frames: number;
  share_of_screen_mean: number;
  prominence: number;
  confidence_max: number;
  sources: Record<string, number>;
  play_url: string;
  thumbnail_url: string | null;
}

export type AlertCondition = 'appears' | 'on_screen_for';

export interface AlertRule {
  id: number;
  name: string;
  brand: number;
  brand_name: string;
  stream: string | null;
  condition: AlertCondition;
  seconds: number;
  webhook_url: string;
  enabled: boolean;
  fired: number;
  secret?: string; // only in the answer to its creation
}

export interface TimeRange {
  since?: Date;
  until?: Date;
}

/** The REST API. Session auth: Angular's XSRF support echoes Django's csrftoken cookie. */
@Injectable({ providedIn: 'root' })
export class Api {
  private readonly http = inject(HttpClient);

  streams(): Promise<StreamInfo[]> {
    return firstValueFrom(this.http.get<StreamInfo[]>('/api/streams/'));
  }

  stream(id: string): Promise<StreamInfo> {
    return firstValueFrom(this.http.get<StreamInfo>(`/api/streams/${id}/`));
  }

  createStream(name: string): Promise<StreamWithKey> {
    return firstValueFrom(this.http.post<StreamWithKey>('/api/streams/', { name }));
  }

  updateStream(id: string, changes: Partial<StreamInfo>): Promise<StreamInfo> {
    return firstValueFrom(this.http.patch<StreamInfo>(`/api/streams/${id}/`, changes));
  }

  rotateKey(id: string): Promise<StreamWithKey> {
    return firstValueFrom(this.http.post<StreamWithKey>(`/api/streams/${id}/rotate-key/`, {}));
  }

  /** Results of a wall-clock range, in the socket's message shape (for seeking back). */
  async frames(id: string, since: Date, until: Date): Promise<AnalysisFrame[]> {
    const params = { since: since.toISOString(), until: until.toISOString(), limit: 1000 };
    const page = await firstValueFrom(
      this.http.get<{ results: AnalysisFrame[] }>(`/api/streams/${id}/frames/`, { params }),
    );
    return page.results;
  }

  brands(): Promise<Brand[]> {
    return firstValueFrom(this.http.get<Brand[]>('/api/brands/'));
  }

  createBrand(name: string, aliases: string[]): Promise<Brand> {
    return firstValueFrom(this.http.post<Brand>('/api/brands/', { name, aliases }));
  }

  deleteBrand(id: number): Promise<unknown> {
    return firstValueFrom(this.http.delete(`/api/brands/${id}/`));
  }

  addReferenceImage(brandId: number, image: File): Promise<ReferenceImage> {
    const form = new FormData();
    form.append('image', image);
    return firstValueFrom(this.http.post<ReferenceImage>(`/api/brands/${brandId}/images/`, form));
  }

  brandCorrections(brandId: number): Promise<LogoCorrection[]> {
    return firstValueFrom(this.http.get<LogoCorrection[]>(`/api/brands/${brandId}/corrections/`));
  }

  deleteCorrection(brandId: number, id: number): Promise<unknown> {
    return firstValueFrom(this.http.delete(`/api/brands/${brandId}/corrections/${id}/`));
  }

  /** "Not this brand": the appearance leaves the exposure, its logo becomes a negative. */
  rejectAppearance(streamId: string, appearanceId: number): Promise<RejectResult> {
    return firstValueFrom(
      this.http.post<RejectResult>(`/api/streams/${streamId}/appearances/${appearanceId}/reject/`, {}),
    );
  }

  /** "Missed here": the brand's logo is in the frame at that moment. */
  logoMissed(streamId: string, request: MissedRequest): Promise<LogoCorrection> {
    return firstValueFrom(this.http.post<LogoCorrection>(`/api/streams/${streamId}/logo-missed/`, request));
  }

  exposure(id: string, range: TimeRange = {}): Promise<ExposureSummary> {
    return firstValueFrom(
      this.http.get<ExposureSummary>(`/api/streams/${id}/exposure/`, { params: rangeParams(range) }),
    );
  }

  appearances(id: string, range: TimeRange = {}): Promise<Appearance[]> {
    return firstValueFrom(
      this.http.get<Appearance[]>(`/api/streams/${id}/appearances/`, { params: rangeParams(range) }),
    );
  }

  /** A download link: `exposure.csv`, `appearances.csv`, or the JSON endpoints. */
  exportUrl(
    id: string,
    file: 'exposure.csv' | 'appearances.csv' | 'exposure/' | 'appearances/',
    range: TimeRange = {},
  ): string {
    const query = new URLSearchParams(rangeParams(range)).toString();
    return `/api/streams/${id}/${file}${query ? '?' + query : ''}`;
  }

  alertRules(): Promise<AlertRule[]> {
    return firstValueFrom(this.http.get<AlertRule[]>('/api/alerts/'));
  }

  createAlertRule(rule: Omit<AlertRule, 'id' | 'brand_name' | 'fired' | 'enabled'>): Promise<AlertRule> {
    return firstValueFrom(this.http.post<AlertRule>('/api/alerts/', rule));
  }

  deleteAlertRule(id: number): Promise<unknown> {
    return firstValueFrom(this.http.delete(`/api/alerts/${id}/`));
  }

  kinds(): Promise<KindInfo[]> {
    return firstValueFrom(this.http.get<KindInfo[]>('/api/kinds/'));
  }

  health(): Promise<Health> {
    return firstValueFrom(this.http.get<Health>('/api/health'));
  }

  hlsUrl(id: string): string {
    return `/api/streams/${id}/hls/live.m3u8`;
  }
}

function rangeParams(range: TimeRange): Record<string, string> {
  const params: Record<string, string> = {};
  if (range.since) params['since'] = range.since.toISOString();
  if (range.until) params['until'] = range.until.toISOString();
  return params;
}
