import { HttpErrorResponse } from '@angular/common/http';
import { Component, OnInit, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Api, Brand } from '../../core/api';

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
  protected name = '';
  protected aliases = '';

  async ngOnInit(): Promise<void> {
    this.brands.set(await this.api.brands());
  }

  protected async createBrand(): Promise<void> {
    const aliases = this.aliases.split(',').map((alias) => alias.trim()).filter(Boolean);
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
    });
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
