import { BadInputError } from '../errors';
import { dataPlaneNames, type DataPlaneName } from '../profile/profileSchema';
import { AmbientDataPlane } from './ambient';
import { BaselineDataPlane } from './baseline';
import type { DataPlane, DataPlaneOptions } from './dataPlane';
import { SidecarDataPlane } from './sidecar';
import { WaypointDataPlane } from './waypoint';
import { createKernelDataPlane } from './kernel';

/** The design table: connections on one request's path per data plane. */
export const expectedConnections: Readonly<Record<DataPlaneName, number>> = {
  baseline: 1, sidecar: 3, ambient: 3, waypoint: 4, kernel: 1, dual: 2,
};

export function parseDataPlaneName(text: string): DataPlaneName {
  const found = dataPlaneNames.find((n) => n === text);
  if (found === undefined) throw new BadInputError(`unknown data plane "${text}"`, `one of ${dataPlaneNames.join(', ')}`);
  return found;
}

export function createDataPlane(name: DataPlaneName, options: DataPlaneOptions): DataPlane {
  switch (name) {
    case 'baseline': return new BaselineDataPlane();
    case 'sidecar': return new SidecarDataPlane(options);
    case 'ambient': return new AmbientDataPlane(options);
    case 'waypoint': return new WaypointDataPlane(options);
    case 'kernel':
    case 'dual':
      return createKernelDataPlane(name, options);
  }
}
