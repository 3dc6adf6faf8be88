import { Gauge, register, type Registry } from 'prom-client';

export const TRUNK_REGISTERED = 'wagw_trunk_registered';

/** What a publisher reports at scrape time: each registering trunk (either way) and whether it is registered now. */
export type RegistrationSource = () => readonly { trunk: string; registered: boolean }[];

const sources = new Set<RegistrationSource>();

/**
 * `wagw_trunk_registered{trunk}`: for trunks whose PBX registers to the gateway (`registrar: true`) and trunks
 * the gateway registers to (`register: true`), 1 while registered, 0 while not (an alert on 0 says calls from
 * the PBX cannot find the gateway, or the gateway cannot find the PBX). Read at scrape time
 * from every publisher of the process (several apps in one test process share prom-client's registry).
 * Returns the function that removes the publisher (shutdown).
 */
export function publishRegistrations(source: RegistrationSource, registry: Registry = register): () => void {
  if (!registry.getSingleMetric(TRUNK_REGISTERED)) {
    new Gauge({
      name: TRUNK_REGISTERED,
      help: 'Trunks with a registration, the PBX registering to the gateway (registrar: true) or the gateway to the PBX (register: true): 1 while it is live, 0 while not.',
      labelNames: ['trunk'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sources) for (const r of s()) this.set({ trunk: r.trunk }, r.registered ? 1 : 0);
      },
    });
  }
  sources.add(source);
  return () => void sources.delete(source);
}
