import {UserError} from '../errors.js';

/** The loss (or gradient norm) stopped being a finite number: training cannot go on. */
export class TrainingDivergedError extends UserError {
  constructor(
    readonly step: number,
    readonly value: number,
    readonly what: 'loss' | 'gradient norm',
    /** The newest checkpoint written before the step, if any: resume from it with a lower lr. */
    readonly lastGoodCheckpoint?: string,
  ) {
    super(
      `${what} became ${value} at step ${step}; training stopped${
        lastGoodCheckpoint
          ? ` (last good checkpoint: ${lastGoodCheckpoint})`
          : ' before any checkpoint was written'
      }`,
      'lower the learning rate (--lr), set --clip-norm 1.0, or add warm-up steps',
    );
  }
}
