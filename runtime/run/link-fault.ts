// A link type layer 3 cannot strip is the capture's fault, like a malformed
// record: both runners end that capture with a CaptureError at the record's
// offset. The runners serve the CLI, so the remedy named is its flag (the
// library's LinkTypeError names the `layer` option instead).
import { CaptureError } from '../capture/parse.js';
import type { LinkTypeError } from '../capture/link.js';

export function linkTypeFault(name: string, offset: number, e: LinkTypeError): CaptureError {
  return new CaptureError(name, offset, `${e.detail}; use --layer 2 to filter whole frames`);
}
