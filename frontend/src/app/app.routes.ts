import { Routes } from '@angular/router';
import { signedIn } from './core/auth';

export const routes: Routes = [
  { path: 'login', loadComponent: () => import('./features/login/login-page').then((m) => m.LoginPage) },
  {
    path: 'streams',
    canActivate: [signedIn],
    loadComponent: () => import('./features/streams/stream-list-page').then((m) => m.StreamListPage),
  },
  {
    path: 'streams/:id',
    canActivate: [signedIn],
    loadComponent: () => import('./features/player/stream-page').then((m) => m.StreamPage),
  },
  {
    path: 'streams/:id/exposure',
    canActivate: [signedIn],
    loadComponent: () => import('./features/exposure/exposure-report-page').then((m) => m.ExposureReportPage),
  },
  {
    path: 'uploads',
    canActivate: [signedIn],
    loadComponent: () => import('./features/uploads/upload-page').then((m) => m.UploadPage),
  },
  {
    path: 'brands',
    canActivate: [signedIn],
    loadComponent: () => import('./features/brands/brands-page').then((m) => m.BrandsPage),
  },
  { path: '', pathMatch: 'full', redirectTo: 'streams' },
  { path: '**', redirectTo: 'streams' },
];
