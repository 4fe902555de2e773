/** The ledger's tables as Kysely sees them (the schema itself is the migrations'). */
export interface LedgerTables {
  usage: UsageTable;
}

/** One row per tenant, hour and endpoint; counters are added to by each answered request. */
export interface UsageTable {
  tenant: string;
  /** `YYYY-MM-DDTHH` (UTC): sorts and prefixes like the periods it is summed into. */
  hour: string;
  endpoint: string;
  requests: number;
  items: number;
  prompt_tokens: number;
  characters: number;
  flagged: number;
}
