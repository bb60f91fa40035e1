// Units as type aliases so signatures say what a number means.
export type Microseconds = number;
export type Milliseconds = number;
export type Seconds = number;
export type Bytes = number;
export type RequestsPerSecond = number;
/** A probability in percent, 0..100, as fortio writes it (`delay=5ms:10` is 10%). */
export type Percent = number;
