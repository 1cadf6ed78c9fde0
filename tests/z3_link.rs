//! The conditions work solves guards with Z3 through the `z3` crate, linked
//! against the system libz3 (`libz3-dev`). This checks that the link works on
//! this machine and that the solver answers, so a broken install fails here
//! rather than in the first proof.

use z3::ast::Int;
use z3::{SatResult, Solver};

#[test]
fn system_z3_solves_and_refutes() {
    let x = Int::new_const("x");
    let solver = Solver::new();
    solver.assert(x.gt(Int::from_i64(2)));
    solver.assert(x.lt(Int::from_i64(4)));
    assert_eq!(solver.check(), SatResult::Sat);
    let model = solver
        .get_model()
        .expect("a model for a satisfiable formula");
    assert_eq!(model.eval(&x, true).and_then(|v| v.as_i64()), Some(3));
    solver.assert(x.eq(Int::from_i64(5)));
    assert_eq!(solver.check(), SatResult::Unsat);
}
