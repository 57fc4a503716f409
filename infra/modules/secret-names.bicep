// Names of the Key Vault secrets the app reads through Key Vault references. The template only
// refers to them; infra/hooks/postprovision.sh creates the pepper, and the deployer sets the
// managed model's key.

@export()
@description('Key Vault secret names, keyed by what they hold.')
var secretNames = {
  // HMAC key of API key hashes; replacing it invalidates every issued API key.
  apiKeyPepper: 'api-key-pepper'
  // Key of the managed (trial) model's provider.
  managedModelApiKey: 'managed-model-api-key'
}
