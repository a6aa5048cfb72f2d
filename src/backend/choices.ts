// What `--backend` accepts, apart from backend.ts so that flag definitions load without tfjs.

/** What a user may ask for (`--backend`, env `DSK_BACKEND`). */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
