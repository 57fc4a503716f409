// Private endpoints of the Storage account (blob, queue, table: what the host, the durable backend and the app use),
// of the API's tables when they have an account of their own, and of the Key Vault, each registered in its private
// DNS zone so the usual host names resolve to it in the network.

param namePrefix string
param location string
param tags object

@description('Subnet the endpoints take their addresses from.')
param subnetId string

param storageAccountId string

@description('The account of the API\'s tables when apart from storageAccountId (its table endpoint alone); empty for none.')
param apiTablesAccountId string = ''

param keyVaultId string

@description('Private DNS zone id per group id (blob, queue, table, vault), from network.bicep.')
param zoneIds object

var endpoints = concat(
  [
    {
      name: 'blob'
      groupId: 'blob'
      target: storageAccountId
    }
    {
      name: 'queue'
      groupId: 'queue'
      target: storageAccountId
    }
    {
      name: 'table'
      groupId: 'table'
      target: storageAccountId
    }
    {
      name: 'vault'
      groupId: 'vault'
      target: keyVaultId
    }
  ],
  empty(apiTablesAccountId)
    ? []
    : [
        {
          name: 'api-table'
          groupId: 'table'
          target: apiTablesAccountId
        }
      ]
)

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: '${namePrefix}-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.groupId
          properties: {
            privateLinkServiceId: endpoint.target
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.groupId
          properties: {
            privateDnsZoneId: zoneIds[endpoint.groupId]
          }
        }
      ]
    }
  }
]
