//! Keyset conditions: the rows after a page's last one, in the order `(first, second)`, as
//! one row-value comparison. An index on `(…, first, second)` then starts its range scan at
//! the cursor; written as `first > a OR (first = a AND second > b)`, PostgreSQL kept it as
//! a filter and walked every row before the cursor (a page 40,000 messages deep read 40,000
//! rows). SQLite (3.15 and later) uses row values in index ranges too.

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Value};

/// `(first, second) > (a, b)`: after the cursor in ascending order.
pub fn after<A: ColumnTrait, B: ColumnTrait>(
    columns: (A, B),
    key: (impl Into<Value>, impl Into<Value>),
) -> SimpleExpr {
    row(columns).gt(values(key))
}

/// `(first, second) < (a, b)`: after the cursor in descending order.
pub fn before<A: ColumnTrait, B: ColumnTrait>(
    columns: (A, B),
    key: (impl Into<Value>, impl Into<Value>),
) -> SimpleExpr {
    row(columns).lt(values(key))
}

fn row<A: ColumnTrait, B: ColumnTrait>((a, b): (A, B)) -> Expr {
    Expr::tuple([Expr::col(a), Expr::col(b)])
}

fn values((a, b): (impl Into<Value>, impl Into<Value>)) -> Expr {
    Expr::tuple([Expr::val(a), Expr::val(b)])
}
