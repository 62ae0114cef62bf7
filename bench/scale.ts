/** GAAP scale benchmark; filled in once the GAAP control plane is complete. */
export interface ScaleResult {
  label: string;
  value: string;
  target?: string;
}

export async function scaleBenchmark(_hmacRps: number, _log: (s: string) => void): Promise<ScaleResult[]> {
  return [];
}
