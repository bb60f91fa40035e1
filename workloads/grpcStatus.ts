/**
 * gRPC status codes and their canonical names (grpc/doc/statuscodes.md; the names fortio and grpc-go print,
 * `codes.Code.String()` without the package).
 */
export const grpcStatusNames: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];

/** Highest defined code (16, UNAUTHENTICATED); the runner's status table is indexed by code. */
export const maxGrpcStatus = grpcStatusNames.length - 1;

/** `14` → `UNAVAILABLE`; a code outside the table keeps its number (`Code(99)` in grpc-go reads `Code(99)`). */
export function grpcStatusName(code: number): string {
  return grpcStatusNames[code] ?? `Code(${code})`;
}

/**
 * Reads a status as a number or a name (`14`, `UNAVAILABLE`, `unavailable`); undefined when it is neither.
 * Numbers beyond 16 are refused: gRPC reserves them, and no server or proxy sends them.
 */
export function parseGrpcStatus(text: string): number | undefined {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n <= maxGrpcStatus ? n : undefined;
  }
  const i = grpcStatusNames.indexOf(text.toUpperCase());
  return i < 0 ? undefined : i;
}
