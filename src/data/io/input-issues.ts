import type {DatasetError} from '../../errors.js';

/**
 * What was wrong with an input that did not stop the step: malformed rows skipped under
 * `onError: 'skip'`, and lines with bytes that are not UTF-8 (read as U+FFFD, which the `mojibake`
 * rule of `clean` then drops). Every data step reports these, so nothing is lost silently.
 */
export interface InputIssues {
  /** Malformed rows skipped under `onError: 'skip'`. */
  skipped: number;
  /** The first messages of skipped rows (file, line, problem). */
  skippedErrors: string[];
  /** Lines holding bytes that are not UTF-8; each bad sequence was read as U+FFFD. */
  invalidUtf8Lines: number;
  /** Where the first of them is (`data.jsonl line 17`). */
  firstInvalidUtf8?: string;
}

const MAX_SKIP_MESSAGES = 1000;

/** Counts the issues of one input; pass `onSkip` and `onInvalidUtf8` to the reader. */
export class InputIssueCounter {
  readonly issues: InputIssues = {skipped: 0, skippedErrors: [], invalidUtf8Lines: 0};

  constructor(
    private readonly source: string,
    private readonly forward?: (error: DatasetError) => void,
  ) {}

  readonly onSkip = (error: DatasetError): void => {
    this.issues.skipped++;
    if (this.issues.skippedErrors.length < MAX_SKIP_MESSAGES) this.issues.skippedErrors.push(error.message);
    this.forward?.(error);
  };

  readonly onInvalidUtf8 = (line: number): void => {
    this.issues.invalidUtf8Lines++;
    this.issues.firstInvalidUtf8 ??= `${this.source} line ${line}`;
  };
}

/** Summary lines for the issues there were (none when the input was clean). */
export function formatInputIssues(issues: InputIssues): string[] {
  const lines: string[] = [];
  if (issues.skipped > 0) {
    lines.push(`  skipped ${issues.skipped} malformed rows (first: ${issues.skippedErrors[0]})`);
  }
  if (issues.invalidUtf8Lines > 0) {
    lines.push(
      `  ${issues.invalidUtf8Lines} lines had bytes that are not UTF-8 (first: ${issues.firstInvalidUtf8}); they were read as U+FFFD — convert the file to UTF-8 (iconv -f …)`,
    );
  }
  return lines;
}
