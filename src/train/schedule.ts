/** How the learning rate falls after warm-up. */
export type LrDecay = 'cosine' | 'linear' | 'constant';

export interface LrSchedule {
  /** Peak learning rate, reached at the end of warm-up. */
  lr: number;
  /** Steps of linear warm-up from lr/warmupSteps to lr. Default 0. */
  warmupSteps?: number;
  /** Step at which the decay reaches its floor (the run's last step). */
  totalSteps: number;
  /** Default 'cosine' (as in GPT-3 / Chinchilla training). */
  decay?: LrDecay;
  /** Floor as a fraction of the peak. Default 0.1 (Chinchilla: decay to 10%). */
  minLrRatio?: number;
}

/**
 * The learning rate for optimizer step `step` (1-based): a pure function of the step, so a resumed
 * run continues the same curve.
 */
export function learningRateAt(step: number, schedule: LrSchedule): number {
  const {lr, totalSteps} = schedule;
  const warmup = schedule.warmupSteps ?? 0;
  const decay = schedule.decay ?? 'cosine';
  if (step <= warmup) return (lr * step) / warmup;
  if (decay === 'constant') return lr;
  const minLr = lr * (schedule.minLrRatio ?? 0.1);
  const span = totalSteps - warmup;
  const progress = span <= 0 ? 1 : Math.min(1, (step - warmup) / span);
  const factor = decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return minLr + (lr - minLr) * factor;
}
