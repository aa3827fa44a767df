// Test-only model: the two ERP report endpoints Dockside reads (see ../README.md).
namespace dockside.erp;

aspect SalesOrderRow {
  key OrderNo          : String(20);
  key OrderRev         : Integer;
      Customer         : String(120);
      // Assumed names (UPSTREAMS.md names neither): the customer's group, and the goods' supplier.
      CustomerGroup    : String(120);
      Supplier         : String(120);
      // 'Work in Progress' | 'Scheduled' | 'On Hold' | 'Completed' | 'Cancelled'
      OrderStatus      : String(30);
      ProductionStatus : String(40); // may be null
      DateScheduled    : Date;
      EtaDate          : Date;
      Qty              : Decimal(12, 3);
      Descn            : String(200);
      Notes            : String(500);
      BarcodeNo        : String(40);
}

// One table per organisation; each service serves its own.
entity DDSalesOrders  : SalesOrderRow {}
entity CBRSalesOrders : SalesOrderRow {}

@path: '/reports/DD'
@requires: 'DDReports'
service DDReports {
  @readonly
  @cds.query.limit: { default: 100, max: 100 }
  entity SalesOrders as projection on DDSalesOrders;
}

@path: '/reports/CBR'
@requires: 'CBRReports'
service CBRReports {
  @readonly
  @cds.query.limit: { default: 100, max: 100 }
  entity SalesOrders as projection on CBRSalesOrders;
}
