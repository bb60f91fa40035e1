import { EnvironmentError } from '../errors';
import type { DataPlane, DataPlaneOptions } from './dataPlane';

/**
 * The eBPF data planes (`kernel`, `dual`). Not finished: they load bpf/kernelDataplane.bpf.c through the
 * native addon in bpf/, which is being built separately.
 */
export function createKernelDataPlane(name: 'kernel' | 'dual', options: DataPlaneOptions): DataPlane {
  void options;
  throw new EnvironmentError(`data plane "${name}" is not available in this build yet`, 'it needs the eBPF addon in bpf/; use baseline, sidecar, ambient or waypoint');
}
