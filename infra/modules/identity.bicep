// The user-assigned managed identity the Function App runs as: every data-plane access (Storage,
// Key Vault, Application Insights, Durable Task Scheduler) is granted to it, never to a key.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output principalId string = identity.properties.principalId
