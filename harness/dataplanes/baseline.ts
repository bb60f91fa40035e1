import type { DataPlane, MeshView } from './dataPlane';

/** No mesh: the client connects to the service address, the node's kube-proxy DNAT picks the endpoint. */
export class BaselineDataPlane implements DataPlane {
  readonly name = 'baseline' as const;
  readonly connectionsPerRequest = 1;
  readonly pathDescription = 'client → (node DNAT) → server';
  async install(mesh: MeshView): Promise<void> {
    void mesh;
  }
  async enrol(): Promise<void> {
    // nothing to inject
  }
  components(): readonly string[] {
    return [];
  }
  async versions(): Promise<Record<string, string>> {
    return {};
  }
  async uninstall(): Promise<void> {
    // nothing installed
  }
}
