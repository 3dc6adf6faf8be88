import { trunkDomain, uriOnTrunk } from './trunk-directory';

describe('trunk domain and extensions on a trunk', () => {
  it('takes the fromDomain, else the first host without its port, else (a registrar trunk) invalid', () => {
    expect(trunkDomain({ fromDomain: 'pbx.example.com', hosts: ['10.0.0.5:5060'] })).toBe('pbx.example.com');
    expect(trunkDomain({ fromDomain: '', hosts: ['10.0.0.5:5060', '10.0.0.6:5060'] })).toBe('10.0.0.5');
    expect(trunkDomain({ fromDomain: '', hosts: [] })).toBe('invalid');
  });

  it('makes an extension a SIP URI on the trunk and keeps a SIP URI as given', () => {
    expect(uriOnTrunk('1002', { fromDomain: '', hosts: ['10.0.0.5:5060'] })).toBe('sip:1002@10.0.0.5');
    expect(uriOnTrunk('sips:1002@pbx.example.com', { fromDomain: 'other', hosts: [] })).toBe('sips:1002@pbx.example.com');
    expect(uriOnTrunk('1002', { fromDomain: '', hosts: [] })).toBe('sip:1002@invalid'); // no longer a TypeError (agent calls)
  });
});
