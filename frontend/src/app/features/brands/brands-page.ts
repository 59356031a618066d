import { HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Api, Brand, LogoCorrection } from '../../core/api';

const REFRESH_MS = 2000;
const REFRESHES = 60; // a build takes seconds; stop asking after two minutes

/** Brands to monitor: names and aliases (matched in on-screen text) and reference logos. */
@Component({
  selector: 'app-brands-page',
  imports: [FormsModule],
  templateUrl: './brands-page.html',
  styleUrl: './brands-page.css',
})
export class BrandsPage implements OnInit {
  private readonly api = inject(Api);
  protected readonly brands = signal<Brand[]>([]);
  protected readonly error = signal<string | null>(null);
  protected readonly corrections = signal<Record<number, LogoCorrection[] | undefined>>({}); // of the brands opened
  protected name = '';
  protected aliases = '';

  async ngOnInit(): Promise<void> {
    this.brands.set(await this.api.brands());
  }

  protected async createBrand(): Promise<void> {
    const aliases = this.aliases
      .split(',')
      .map((alias) => alias.trim())
      .filter(Boolean);
    await this.attempt(async () => {
      const brand = await this.api.createBrand(this.name.trim(), aliases);
      this.brands.update((brands) => [...brands, brand].sort((a, b) => a.name.localeCompare(b.name)));
      this.name = this.aliases = '';
    });
  }

  protected async addLogo(brand: Brand, file: File | undefined): Promise<void> {
    if (!file) return;
    await this.attempt(async () => {
      const image = await this.api.addReferenceImage(brand.id, file);
      this.brands.update((brands) =>
        brands.map((b) => (b.id === brand.id ? { ...b, reference_images: [...b.reference_images, image] } : b)),
      );
      void this.refreshWhileBuilding();
    });
  }

  protected verifierText(brand: Brand): string {
    const v = brand.verifier;
    if (v.state === 'building') return 'verifier: building…';
    if (v.state === 'ready') {
      const percent = (x: number | null) => `${Math.round((x ?? 0) * 100)} %`;
      return `verifier ready in ${v.seconds?.toFixed(1)} s · self-test precision ${percent(v.precision)}, recall ${percent(v.recall)}`;
    }
    if (v.state === 'failed') return 'verifier: failed';
    return 'no usable logo yet';
  }

  protected correctionsText(brand: Brand): string {
    const { negative, positive } = brand.corrections;
    return `corrections: ${negative} “not this brand”, ${positive} “missed here”`;
  }

  /** Shows or hides a brand's corrections, each with its crop. */
  protected async toggleCorrections(brand: Brand): Promise<void> {
    if (this.corrections()[brand.id]) {
      this.corrections.update(({ [brand.id]: _, ...rest }) => rest);
      return;
    }
    await this.attempt(async () => {
      const list = await this.api.brandCorrections(brand.id);
      this.corrections.update((open) => ({ ...open, [brand.id]: list }));
    });
  }

  /** Undoes a correction: used no more, and the verifier is rebuilt without it. */
  protected async undoCorrection(brand: Brand, correction: LogoCorrection): Promise<void> {
    await this.attempt(async () => {
      await this.api.deleteCorrection(brand.id, correction.id);
      this.corrections.update((open) => ({
        ...open,
        [brand.id]: (open[brand.id] ?? []).filter((c) => c.id !== correction.id),
      }));
      this.brands.update((brands) =>
        brands.map((b) =>
          b.id === brand.id
            ? { ...b, corrections: { ...b.corrections, [correction.kind]: b.corrections[correction.kind] - 1 } }
            : b,
        ),
      );
      void this.refreshWhileBuilding();
    });
  }

  /** Reloads the brands until no verifier is building (bounded). */
  private async refreshWhileBuilding(): Promise<void> {
    for (let attempt = 0; attempt < REFRESHES; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
      const brands = await this.api.brands();
      this.brands.set(brands);
      if (!brands.some((brand) => brand.verifier.state === 'building')) return;
    }
  }

  protected async deleteBrand(brand: Brand): Promise<void> {
    if (!confirm(`Delete “${brand.name}” and its logos?`)) return;
    await this.attempt(async () => {
      await this.api.deleteBrand(brand.id);
      this.brands.update((brands) => brands.filter((b) => b.id !== brand.id));
    });
  }

  private async attempt(action: () => Promise<void>): Promise<void> {
    this.error.set(null);
    try {
      await action();
    } catch (failure) {
      const fields = (failure as HttpErrorResponse).error?.error?.fields ?? {};
      const first = Object.values(fields).flat()[0];
      this.error.set(typeof first === 'string' ? first : 'That did not work.');
    }
  }
}
